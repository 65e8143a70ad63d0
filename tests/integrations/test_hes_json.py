"""HES push JSON: profiles of many meters per message, events by IS 15959 code, row faults reported."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from integrations.canonical import ParseError
from integrations.hes import simulator
from integrations.hes.json_push import parse_events, parse_readings
from integrations.simulation import SimMeter, simulate_day
from tests.integrations.conftest import sample, utc


def test_block_load_values_become_one_row_per_channel_in_utc(now: int) -> None:
    batch = parse_readings(sample("hes_readings.json"), now=now)
    assert (batch.source, batch.message_id, batch.rejects) == ("hes:HES-A", "HESA-20261128-0001", [])
    iv = batch.intervals
    assert sorted(zip(iv.channel, iv.interval_end.tolist(), iv.value, strict=True)) == [
        ("kvah", utc("2026-11-26T18:45:00"), 0.13),
        ("kvah", utc("2026-11-26T19:00:00"), 0.12),
        ("kwh", utc("2026-11-26T18:45:00"), 0.12),
        ("kwh", utc("2026-11-26T19:00:00"), 0.11),
        ("voltage_r", utc("2026-11-26T18:45:00"), 238.5),
        ("voltage_r", utc("2026-11-26T19:00:00"), 239.0),
    ]
    assert set(iv.interval_minutes.tolist()) == {15}


def test_daily_billing_and_instantaneous_profiles_become_register_reads(now: int) -> None:
    rg = parse_readings(sample("hes_readings.json"), now=now).registers
    rows = sorted(
        zip(
            rg.meter,
            rg.kind,
            rg.channel,
            rg.tod_zone.tolist(),
            rg.read_at.tolist(),
            rg.value,
            rg.occurred_at.tolist(),
            strict=True,
        )
    )
    assert [r[:6] for r in rows] == [
        ("S00000201", "daily", "kvah", 0, utc("2026-11-26T18:30:00"), 1650.5),
        ("S00000201", "daily", "kwh", 0, utc("2026-11-26T18:30:00"), 1520.75),
        ("S00000202", "billing", "kwh", 0, utc("2026-10-31T18:30:00"), 1400.0),
        ("S00000202", "billing", "kwh", 1, utc("2026-10-31T18:30:00"), 1000.0),
        ("S00000202", "billing", "kwh", 2, utc("2026-10-31T18:30:00"), 400.0),
        ("S00000202", "billing", "md_kw", 0, utc("2026-10-31T18:30:00"), 3.25),
        ("S00000202", "instant", "kwh", 0, utc("2026-11-28T00:30:00"), 1431.2),
    ]
    assert rows[5][6] == utc("2026-10-12T14:45:00")
    assert [r[6] for i, r in enumerate(rows) if i != 5] == [None] * 6  # NaT: only MD has a time


def test_every_row_fault_is_reported_with_locator_field_and_meter(now: int) -> None:
    batch = parse_readings(sample("hes_readings_row_faults.json"), now=now)
    assert batch.intervals.value.tolist() == [0.12]
    got = [(r.locator, r.field, r.reason, r.meter) for r in batch.rejects]
    assert got == [
        ("readings[0].values[1]", "kwh", "not a number: 'lots'", "S00000201"),
        ("readings[0].values[2]", "frequency_hz", "unknown parameter 'frequency_hz'", "S00000201"),
        (
            "readings[0].values[4]",
            "end",
            "unreadable timestamp '27/11/2026 01:15' (ISO 8601 with a UTC offset)",
            "S00000201",
        ),
        ("readings[1]", "meter", "missing meter serial number", None),
        (
            "readings[2]",
            "profile",
            "unknown profile 'load_curve'; expected one of ('block_load', 'daily', 'billing', 'instantaneous')",
            "S00000202",
        ),
        ("readings[0].values[3]", "kwh", "interval end is off the 15-minute grid", "S00000201"),
        ("readings[0].values[6]", "kwh", "timestamp is in the future", "S00000201"),
        (
            "readings[0].values[5]",
            "kwh",
            "duplicate interval in this message (the first one is kept)",
            "S00000201",
        ),
    ]
    assert batch.rejects[5].timestamp == "2026-11-26T19:37:00Z"


def test_events_are_read_by_is_15959_code_and_unknown_codes_reported(now: int) -> None:
    batch = parse_events(sample("hes_events.json"), now=now)
    assert batch.events.code.tolist() == [201, 202]
    assert batch.events.snapshot[0] == {"current_r": 3.2, "voltage_r": 231.0}
    assert batch.events.occurred_at.tolist()[0] == utc("2026-11-27T08:40:05")
    assert [(r.locator, r.field, r.reason) for r in batch.rejects] == [
        ("events[2]", "code", "unknown IS 15959 event code 777")
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b"{not json",
            "not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (b"[1, 2]", "the message must be a JSON object"),
        (b'{"readings": []}', "'hes' (the sending head-end system's code) is required"),
        (b'{"hes": "HES-A", "readings": {}}', "'readings' must be a list"),
        (b'{"hes": "HES-A", "readings": [], "message_id": 7}', "'message_id' must be a string"),
    ],
)
def test_unreadable_message_is_refused_whole(body: bytes, reason: str, now: int) -> None:
    with pytest.raises(ParseError) as caught:
        parse_readings(body, now=now)
    assert caught.value.reason == reason


def test_simulated_push_round_trips_with_gaps_left_as_gaps(now: int) -> None:
    sims = [simulate_day(SimMeter(f"S0000080{i}", faults=("gap",)), date(2026, 11, 26)) for i in range(2)]
    message = simulator.readings_message(sims, profiles=("block_load", "daily", "billing", "instantaneous"))
    batch = parse_readings(simulator.encode(message), now=now)
    assert batch.rejects == []
    kwh = (batch.intervals.meter == "S00000801") & (batch.intervals.channel == "kwh")
    np.testing.assert_allclose(batch.intervals.value[kwh], sims[1].channels["kwh"][sims[1].present])
    assert kwh.sum() < 96
    assert set(batch.registers.kind.tolist()) == {"daily", "billing", "instant"}


def test_broken_simulated_push_reports_each_planted_fault(now: int) -> None:
    sim = simulate_day(SimMeter("S00000810"), date(2026, 11, 26))
    batch = parse_readings(simulator.encode(simulator.broken_readings(sim)), now=now)
    reasons = {r.reason.split(":")[0].split(" (")[0] for r in batch.rejects}
    assert reasons == {
        "not a number",
        "unknown parameter 'frequency_hz'",
        "interval end is off the 15-minute grid",
        "unreadable timestamp '27/11/2026 00",
        "duplicate interval in this message",
        "timestamp is in the future",
    }
