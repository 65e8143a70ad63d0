"""SCADA feeder/DT energy (JSON, CSV) and monthly scalar reads (JSON, CSV) with reading status."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from integrations.billing.scalar_reads import (
    parse_scalar_csv,
    parse_scalar_json,
    scalar_reads_csv,
    scalar_reads_json,
)
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


def _rows(batch: Any) -> list[tuple[Any, ...]]:
    rg = batch.registers
    return sorted(
        (m, ch, None if v != v else v, st, k)
        for m, ch, v, st, k in zip(rg.meter, rg.channel, rg.value, rg.reading_status, rg.kind, strict=True)
    )


def test_scalar_csv_keeps_status_and_a_status_only_read_becomes_a_kwh_row_without_value(now: int) -> None:
    batch = parse_scalar_csv(sample("scalar_reads.csv"), now=now)
    assert _rows(batch) == [
        ("M00000301", "kwh", 4521.5, "normal", "scalar"),
        ("M00000301", "md_kw", 2.1, "normal", "scalar"),
        ("M00000302", "kwh", None, "door_locked", "scalar"),
        ("M00000303", "kwh", 3310.0, "meter_defective", "scalar"),
    ]
    assert batch.registers.read_at.tolist()[0] == utc("2026-11-05T06:00:00")
    door_locked = batch.registers.meter.tolist().index("M00000302")
    assert batch.registers.read_at.tolist()[door_locked] == utc("2026-11-05T06:30:00")
    assert batch.registers.tod_zone.tolist()[door_locked] == 0
    assert [(r.locator, r.field, r.reason) for r in batch.rejects] == [
        ("line 5", "kwh", "a normal read needs kwh"),
        ("line 6", "status", "unknown reading status 'on_holiday'"),
        ("line 7", "read_at", "unreadable timestamp '05-11-2026'"),
    ]


def test_status_only_json_reads_are_kept_but_future_duplicate_and_nan_ones_are_reported(now: int) -> None:
    reads: list[dict[str, Any]] = [
        {"meter": "A1", "read_at": "2026-11-05T11:30:00+05:30", "status": "meter_burnt"},
        {"meter": "A1", "read_at": "2026-11-05T11:30:00+05:30", "status": "door_locked"},
        {"meter": "A2", "read_at": "2026-11-05T11:30:00+05:30", "status": "no_display", "kwh": None},
        {"meter": "A3", "read_at": "2099-01-01T00:00:00+05:30", "status": "door_locked"},
        {"meter": "A4", "read_at": "2026-11-05T11:30:00+05:30", "status": "normal"},
        {"meter": "A5", "read_at": "2026-11-05T11:30:00+05:30", "status": "door_locked", "kwh": "nan"},
    ]
    batch = parse_scalar_json(scalar_reads_json(reads, message_id="R-1"), now=now)
    assert _rows(batch) == [
        ("A1", "kwh", None, "meter_burnt", "scalar"),
        ("A2", "kwh", None, "no_display", "scalar"),
    ]
    assert [(r.locator, r.field, r.reason) for r in batch.rejects] == [
        ("reads[4]", "kwh", "a normal read needs kwh"),
        ("reads[5]", "kwh", "not a number: 'nan'"),
        ("reads[1]", "kwh", "duplicate register read in this message (the first one is kept)"),
        ("reads[3]", "read_at", "timestamp is in the future"),
    ]
    text_nan = parse_scalar_csv(
        b"meter,read_at,status,kwh\nA5,2026-11-05T11:30:00+05:30,door_locked,nan\n", now=now
    )
    assert _rows(text_nan) == []
    assert [(r.field, r.reason) for r in text_nan.rejects] == [("kwh", "not a finite number")]


def test_scalar_json_reports_non_numeric_reads(now: int) -> None:
    batch = parse_scalar_json(sample("scalar_reads.json"), now=now)
    assert batch.source == "scalar:reading_app"
    assert sorted(set(batch.registers.meter.tolist())) == ["M00000301", "M00000302"]
    assert [(r.locator, r.field, r.reason) for r in batch.rejects] == [
        ("reads[2]", "kwh", "not a number: '4k'")
    ]


def test_simulated_monthly_reads_use_only_known_statuses(now: int) -> None:
    meters = [SimMeter(f"M{400 + i:08d}", faults=("zero_run",) if i == 0 else ()) for i in range(60)]
    reads = scalar_reads(meters, date(2026, 11, 5))
    assert {r["status"] for r in reads} <= set(READING_STATUSES)
    assert reads[0]["status"] == "meter_stopped"
    batch = parse_scalar_csv(scalar_reads_csv(reads), now=now)
    door_locked = sum(r["status"] == "door_locked" for r in reads)
    assert door_locked > 0 and batch.rejects == []
    assert len(batch.registers) == len(reads)
    missing = batch.registers.value != batch.registers.value
    assert batch.registers.reading_status[missing].tolist() == ["door_locked"] * door_locked
