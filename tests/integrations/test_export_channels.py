"""A net meter's export through every source format: each parser names it as export.

Import, export, net and the kvarh quadrants while exporting (Q2, Q3) are separate channels;
no parser folds export into import or signs it.
"""

from __future__ import annotations

from typing import Any

from integrations.amr.cdf import parse_cdf
from integrations.billing.scalar_reads import parse_scalar_csv, parse_scalar_json, scalar_reads_csv
from integrations.cim.meter_readings import parse_meter_readings
from integrations.cim.reading_types import Decoded, decode, encode_interval, encode_register
from integrations.hes.json_push import parse_readings
from integrations.scada.energy import parse_energy_csv
from tests.integrations.conftest import reasons, sample


def _intervals(batch: Any) -> dict[str, list[float]]:
    iv = batch.intervals
    out: dict[str, list[float]] = {}
    for channel, value in zip(iv.channel.tolist(), iv.value.tolist(), strict=True):
        out.setdefault(channel, []).append(value)
    return out


def _registers(batch: Any) -> dict[tuple[str, str, int], float]:
    rg = batch.registers
    return {
        (k, c, int(z)): v
        for k, c, z, v in zip(
            rg.kind.tolist(), rg.channel.tolist(), rg.tod_zone.tolist(), rg.value.tolist(), strict=True
        )
    }


def test_hes_json_export_and_quadrant_channels_are_their_own(now: int) -> None:
    batch = parse_readings(sample("hes_readings_net_meter.json"), now=now)
    assert reasons(batch) == []
    assert _intervals(batch) == {
        "kwh": [0.05, 0.04],
        "kwh_export": [1.42, 1.37],
        "kvah": [0.06, 0.05],
        "kvah_export": [1.48, 1.43],
        "kvarh_lag": [0.01],
        "kvarh_lead": [0.0],
        "kvarh_q2": [0.21, 0.2],
        "kvarh_q3": [0.03, 0.02],
    }
    registers = _registers(batch)
    assert registers[("daily", "kwh_export", 0)] == 4120.25
    assert registers[("daily", "kvah_export", 0)] == 4290.75
    assert registers[("billing", "kwh_export", 1)] == 3900.0
    assert registers[("billing", "kwh_export", 2)] == 0.0


def test_cim_reverse_net_and_quadrant_flows_decode_to_export_channels(now: int) -> None:
    assert decode("0.0.2.4.16.1.12.0.0.0.0.0.0.0.0.3.73.0") == Decoded("interval", "kvarh_q2", 15)
    assert decode("0.0.2.4.17.1.12.0.0.0.0.0.0.0.0.3.73.0") == Decoded("interval", "kvarh_q3", 15)
    assert decode("8.0.0.9.17.1.12.0.0.0.0.3.0.0.0.3.73.0") == Decoded(
        "register", "kvarh_q3", 0, "billing", 3
    )
    assert decode(encode_interval("kvarh_q2", 30)) == Decoded("interval", "kvarh_q2", 30)
    assert decode(encode_register("kvarh_q3", "daily")) == Decoded("register", "kvarh_q3", 0, "daily")
    batch = parse_meter_readings(sample("cim_meter_readings_net_meter.xml"), now=now)
    assert reasons(batch) == []
    assert _intervals(batch) == {
        "kwh": [0.05],
        "kwh_export": [1.42],
        "kvah_export": [1.48],
        "kwh_net": [-1.37],
        "kvarh_q2": [0.21],
        "kvarh_q3": [0.03],
    }
    assert _registers(batch) == {("daily", "kwh_export", 0): 4120.25, ("billing", "kwh_export", 1): 3900.0}


def test_cdf_export_parameters_become_export_channels(now: int) -> None:
    batch = parse_cdf(sample("cdf_net_meter.xml"), now=now)
    assert reasons(batch) == []
    assert _intervals(batch) == {"kwh": [0.05], "kwh_export": [1.42], "kvah_export": [1.48]}
    registers = _registers(batch)
    assert registers[("instant", "kwh_export", 0)] == 4120.25
    assert registers[("billing", "kwh_export", 0)] == 3900.0
    assert registers[("billing", "kwh_export", 1)] == 3900.0
    assert registers[("billing", "kvah_export", 0)] == 4050.5


def test_scada_feeder_and_dt_reverse_flow_is_export(now: int) -> None:
    batch = parse_energy_csv(sample("scada_energy_export.csv"), now=now)
    assert reasons(batch) == []
    rows = sorted(
        zip(
            batch.network.code.tolist(),
            batch.network.channel.tolist(),
            batch.network.value.tolist(),
            strict=True,
        )
    )
    assert rows == [
        ("DTR-0001", "kwh_export", 12.5),
        ("FDR-001", "kwh", 410.5),
        ("FDR-001", "kwh_export", 96.25),
    ]


def test_scalar_reads_carry_separate_export_registers(now: int) -> None:
    batch = parse_scalar_csv(sample("scalar_reads_net_meter.csv"), now=now)
    assert reasons(batch) == [("line 3", "kwh_export", "not a number: 'lots'")]
    assert _registers(batch) == {
        ("scalar", "kwh", 0): 2150.5,
        ("scalar", "md_kw", 0): 1.8,
        ("scalar", "kwh_export", 0): 4010.75,
        ("scalar", "kvah_export", 0): 4180.0,
    }
    read = {
        "meter": "N1",
        "read_at": "2026-11-05T11:30:00+05:30",
        "status": "normal",
        "kwh": 10,
        "kwh_export": 7.5,
    }
    assert (
        scalar_reads_csv([read]).splitlines()[0]
        == b"meter,read_at,status,kwh,kvah,md_kw,kwh_export,kvah_export"
    )
    again = parse_scalar_csv(scalar_reads_csv([read]), now=now)
    assert _registers(again) == {("scalar", "kwh", 0): 10.0, ("scalar", "kwh_export", 0): 7.5}
    as_json = parse_scalar_json(
        b'{"reads": [{"meter": "N1", "read_at": "2026-11-05T11:30:00+05:30", "kwh": 10, "kvah_export": "7"}]}',
        now=now,
    )
    assert reasons(as_json) == [("reads[0]", "kvah_export", "not a number: '7'")]
