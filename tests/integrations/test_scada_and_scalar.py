"""SCADA feeder/DT energy (JSON, CSV) and monthly scalar reads (JSON, CSV) with reading status."""

from __future__ import annotations

from datetime import date

import pytest

from integrations.billing.scalar_reads import parse_scalar_csv, parse_scalar_json, scalar_reads_csv
from integrations.canonical import READING_STATUSES, ParseError
from integrations.scada import simulator
from integrations.scada.energy import parse_energy_csv, parse_energy_json
from integrations.simulation import SimMeter, scalar_reads, simulate_day
from tests.integrations.conftest import sample, utc


def test_scada_csv_rows_become_network_energy_and_bad_lines_are_reported(now: int) -> None:
    batch = parse_energy_csv(sample("scada_energy.csv"), now=now)
    nw = batch.network
    assert sorted(zip(nw.kind, nw.code, nw.interval_end.tolist(), nw.value, strict=True)) == [
        ("dtr", "DTR-0001", utc("2026-11-26T18:45:00"), 21.25),
        ("feeder", "FDR-001", utc("2026-11-26T18:45:00"), 812.5),
        ("feeder", "FDR-001", utc("2026-11-26T19:00:00"), 790.0),
    ]
    assert [(r.locator, r.field, r.reason, r.meter) for r in batch.rejects] == [
        ("line 6", "kind", "kind must be one of ('feeder', 'dtr')", "SS-001"),
        ("line 7", "value", "not a number: 'n/a'", "FDR-001"),
        ("line 5", "kwh", "duplicate interval in this message (the first one is kept)", "DTR-0001"),
    ]


def test_scada_json_hourly_grid_follows_ist_hours(now: int) -> None:
    batch = parse_energy_json(sample("scada_energy.json"), now=now)
    assert batch.source == "scada:SCADA"
    assert sorted(zip(batch.network.code, batch.network.channel, batch.network.value, strict=True)) == [
        ("DTR-0001", "kwh", 21.25),
        ("FDR-001", "kvah", 3400.0),
        ("FDR-001", "kwh", 3120.0),
    ]
    assert [(r.locator, r.reason) for r in batch.rejects] == [
        ("energy[0].values[1]", "interval end is off the 60-minute grid")
    ]


def test_scada_csv_without_the_header_is_refused(now: int) -> None:
    with pytest.raises(ParseError, match="missing interval_minutes, channel, value"):
        parse_energy_csv(b"kind,code,interval_end\nfeeder,FDR-001,2026-11-27T00:15:00+05:30\n", now=now)


def test_simulated_scada_round_trips(now: int) -> None:
    sims = [
        ("feeder", simulate_day(SimMeter("FDR-001", shape="feeder", daily_kwh=60000), date(2026, 11, 26)))
    ]
    for parse, body in (
        (parse_energy_json, simulator.energy_json(sims)),
        (parse_energy_csv, simulator.energy_csv(sims)),
    ):
        batch = parse(body, now=now)
        assert batch.rejects == [] and len(batch.network) == 192


def test_scalar_csv_keeps_status_and_reports_reads_without_values(now: int) -> None:
    batch = parse_scalar_csv(sample("scalar_reads.csv"), now=now)
    rg = batch.registers
    assert sorted(zip(rg.meter, rg.channel, rg.value, rg.reading_status, rg.kind, strict=True)) == [
        ("M00000301", "kwh", 4521.5, "normal", "scalar"),
        ("M00000301", "md_kw", 2.1, "normal", "scalar"),
        ("M00000303", "kwh", 3310.0, "meter_defective", "scalar"),
    ]
    assert rg.read_at.tolist()[0] == utc("2026-11-05T06:00:00")
    assert [(r.locator, r.field, r.reason) for r in batch.rejects] == [
        ("line 3", "status", "status 'door_locked' with no reading: nothing to store"),
        ("line 5", "kwh", "a normal read needs kwh"),
        ("line 6", "status", "unknown reading status 'on_holiday'"),
        ("line 7", "read_at", "unreadable timestamp '05-11-2026'"),
    ]


def test_scalar_json_reports_non_numeric_reads(now: int) -> None:
    batch = parse_scalar_json(sample("scalar_reads.json"), now=now)
    assert batch.source == "scalar:reading_app"
    assert sorted(set(batch.registers.meter.tolist())) == ["M00000301", "M00000302"]
    assert [(r.locator, r.field, r.reason) for r in batch.rejects] == [
        ("reads[2]", "kwh", "not a number: '4k'")
    ]


def test_simulated_monthly_reads_use_only_known_statuses(now: int) -> None:
    meters = [SimMeter(f"M0000040{i}", faults=("zero_run",) if i == 0 else ()) for i in range(10)]
    reads = scalar_reads(meters, date(2026, 11, 5))
    assert {r["status"] for r in reads} <= set(READING_STATUSES)
    assert reads[0]["status"] == "meter_stopped"
    batch = parse_scalar_csv(scalar_reads_csv(reads), now=now)
    door_locked = sum(r["status"] == "door_locked" for r in reads)
    assert len(batch.rejects) == door_locked
    assert len(batch.registers) == len(reads) - door_locked
