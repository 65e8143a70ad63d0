"""Registers, events and feeder/DT energy go through the same path as intervals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import insert, text

from integrations.canonical import CanonicalBatch, Events, NetworkEnergy, Registers

NAT = np.datetime64("NaT", "s")


def _registers(rows: list[tuple[Any, ...]]) -> CanonicalBatch:
    """rows: (meter, kind, channel, tod_zone, read_at, value, occurred_at, reading_status)."""
    return CanonicalBatch(
        source="amr-cdf",
        registers=Registers(
            meter=np.array([r[0] for r in rows], dtype=object),
            kind=np.array([r[1] for r in rows], dtype=object),
            channel=np.array([r[2] for r in rows], dtype=object),
            tod_zone=np.array([r[3] for r in rows], dtype=np.int16),
            read_at=np.array([r[4] for r in rows], dtype="datetime64[s]"),
            value=np.array([r[5] for r in rows], dtype=np.float64),
            occurred_at=np.array([r[6] or "NaT" for r in rows], dtype="datetime64[s]"),
            reading_status=np.array([r[7] for r in rows], dtype=object),
        ),
    )


def test_billing_registers_with_tod_zones_md_time_and_scalar_status_are_stored(
    session: Any, meters: Any, ingest: Any
) -> None:
    result = ingest(
        _registers(
            [
                ("M1", "billing", "kwh", 0, "2026-10-01T00:00:00", 1234.5, None, None),
                ("M1", "billing", "kwh", 3, "2026-10-01T00:00:00", 400.25, None, None),
                ("M1", "billing", "md_kw", 0, "2026-10-01T00:00:00", 3.2, "2026-09-14T13:30:00", None),
                ("M2", "scalar", "kwh", 0, "2026-10-03T06:30:00", 5678.0, None, "door_locked"),
                ("M2", "scalar", "kwh", 0, "2026-10-04T06:30:00", 5690.0, None, "door_open"),
                ("M1", "billing", "kwh", 9, "2026-10-01T00:00:00", 1.0, None, None),
                ("M1", "billing", "kwh", 3, "2026-10-01T00:00:00", 401.0, None, None),
            ]
        )
    )

    assert result.stored == 4
    assert [(r["locator"], r["field"], r["reason"]) for r in result.rejects] == [
        ("registers[4]", "reading_status", "unknown reading status 'door_open'"),
        ("registers[5]", "tod_zone", "TOD zone 9 is outside 0..8"),
        (
            "registers[6]",
            "key",
            "duplicate of an earlier register read (same meter, kind, channel, zone and time) in this batch",
        ),
    ]
    rows = session.execute(
        text(
            "SELECT meter_id, kind, channel, tod_zone, value, occurred_at, reading_status, quality"
            " FROM register_reads ORDER BY meter_id, channel, tod_zone"
        )
    ).all()
    m1, m2 = meters["M1"], meters["M2"]
    assert [tuple(r) for r in rows] == [
        (m1, "billing", "kwh", 0, 1234.5, None, None, "raw"),
        (m1, "billing", "kwh", 3, 400.25, None, None, "raw"),
        (m1, "billing", "md_kw", 0, 3.2, datetime(2026, 9, 14, 13, 30, tzinfo=UTC), None, "raw"),
        (m2, "scalar", "kwh", 0, 5678.0, None, "door_locked", "raw"),
    ]


def test_register_revision_keeps_old_value_and_md_time(session: Any, meters: Any, ingest: Any) -> None:
    ingest(
        _registers([("M1", "billing", "md_kw", 0, "2026-10-01T00:00:00", 3.2, "2026-09-14T13:30:00", None)])
    )
    again = ingest(
        _registers([("M1", "billing", "md_kw", 0, "2026-10-01T00:00:00", 3.4, "2026-09-20T10:00:00", None)])
    )

    assert (again.stored, again.unchanged, again.revised) == (0, 0, 1)
    rev = session.execute(
        text("SELECT measure, key, old_value, old_extra, new_value FROM reading_revisions")
    ).one()
    assert rev.measure == "register" and rev.key == {"kind": "billing", "tod_zone": 0}
    assert (rev.old_value, rev.new_value) == (3.2, 3.4)
    assert rev.old_extra["occurred_at"].startswith("2026-09-14T13:30:00")


def _events(rows: list[tuple[Any, ...]], source: str = "hes:TEST") -> CanonicalBatch:
    return CanonicalBatch(
        source=source,
        events=Events(
            meter=np.array([r[0] for r in rows], dtype=object),
            code=np.array([r[1] for r in rows], dtype=np.int32),
            occurred_at=np.array([r[2] for r in rows], dtype="datetime64[s]"),
            restored_at=np.array([r[3] or "NaT" for r in rows], dtype="datetime64[s]"),
            snapshot=[r[4] for r in rows],
        ),
    )


def test_event_restoration_arriving_later_updates_the_event_and_resend_keeps_it(
    session: Any, meters: Any, ingest: Any
) -> None:
    first = ingest(_events([("M1", 251, "2026-10-05T10:00:00", None, {"kwh": 100.5})]))
    restored = ingest(_events([("M1", 251, "2026-10-05T10:00:00", "2026-10-05T10:20:00", {})]))
    resent = ingest(_events([("M1", 251, "2026-10-05T10:00:00", None, {})]))

    assert (first.stored, restored.revised, resent.unchanged) == (1, 1, 1)
    event = session.execute(
        text("SELECT code, occurred_at, restored_at, snapshot, batch_id FROM meter_events")
    ).one()
    assert event.restored_at == datetime(2026, 10, 5, 10, 20, tzinfo=UTC)
    assert event.snapshot == {"kwh": 100.5} and event.batch_id == restored.batch_id


def test_event_with_restoration_before_occurrence_is_rejected(session: Any, meters: Any, ingest: Any) -> None:
    result = ingest(
        _events(
            [
                ("M1", 101, "2026-10-05T10:00:00", "2026-10-05T09:00:00", {}),
                ("M1", 0, "2026-10-05T10:00:00", None, {}),
            ]
        )
    )
    assert result.stored == 0
    assert [(r["field"], r["reason"]) for r in result.rejects] == [
        ("restored_at", "restoration is before the occurrence"),
        ("code", "event code 0 is not an IS 15959 code"),
    ]


def test_feeder_and_dt_energy_stored_by_network_id_and_unknown_codes_quarantined(
    session: Any, org: Any, ingest: Any
) -> None:
    from service.masterdata.models import Dtr, Feeder

    feeder_id = session.execute(
        insert(Feeder)
        .values(code="F-11", name="F", voltage_kv=Decimal(11), feeder_type="urban", org_unit_id=org["east"])
        .returning(Feeder.id)
    ).scalar_one()
    dtr_id = session.execute(
        insert(Dtr)
        .values(code="DT-1", name="D", capacity_kva=Decimal(100), org_unit_id=org["east"])
        .returning(Dtr.id)
    ).scalar_one()
    session.commit()
    rows = [
        ("feeder", "F-11", "2026-10-05T00:30:00", 410.0),
        ("dtr", "DT-1", "2026-10-05T00:30:00", 35.5),
        ("dtr", "F-11", "2026-10-05T00:30:00", 1.0),  # a feeder code is not a DTR code
        ("substation", "S-1", "2026-10-05T00:30:00", 1.0),
    ]
    batch = CanonicalBatch(
        source="scada",
        network=NetworkEnergy(
            kind=np.array([r[0] for r in rows], dtype=object),
            code=np.array([r[1] for r in rows], dtype=object),
            channel=np.array(["kwh"] * len(rows), dtype=object),
            interval_end=np.array([r[2] for r in rows], dtype="datetime64[s]"),
            value=np.array([r[3] for r in rows]),
            interval_minutes=np.full(len(rows), 60, dtype=np.int16),
        ),
    )
    result = ingest(batch)

    assert (result.stored, result.quarantined) == (2, 1), result.as_dict()
    assert [r["reason"] for r in result.rejects] == ["unknown network kind 'substation' (feeder or dtr)"]
    stored = session.execute(
        text("SELECT network_id, network_kind, value FROM network_energy ORDER BY value")
    ).all()
    assert [tuple(r) for r in stored] == [(dtr_id, "dtr", 35.5), (feeder_id, "feeder", 410.0)]
    held = session.execute(text("SELECT subject_kind, subject_code, reason FROM quarantined_readings")).one()
    assert tuple(held) == ("dtr", "F-11", "DTR 'F-11' is not in master data")


def test_hourly_intervals_follow_ist_hours(session: Any, meters: Any, ingest: Any) -> None:
    from tests.readings.conftest import intervals_batch

    result = ingest(
        intervals_batch(
            [("M1", "kwh", "2026-10-05T00:30:00", 1.0), ("M1", "kwh", "2026-10-05T01:00:00", 1.0)], minutes=60
        )
    )
    # 00:30 UTC is 06:00 IST (on the hour); 01:00 UTC is 06:30 IST (not).
    assert result.stored == 1
    assert [r["reason"] for r in result.rejects] == ["interval end is not on the 60-minute grid"]


def test_nothing_of_a_batch_remains_when_the_caller_rolls_back(session: Any, meters: Any) -> None:
    from service.readings.ingest import ingest_batch
    from tests.readings.conftest import ACTOR, day_of, intervals_batch

    ingest_batch(session(), intervals_batch(day_of("M1", [1.0]) + day_of("NEW-9", [1.0])), actor=ACTOR)
    session.rollback()

    for table in ("ingest_batches", "interval_readings", "quarantined_readings", "audit_log"):
        assert session.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table  # noqa: S608
