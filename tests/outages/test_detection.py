"""The batch pass over stored power events: DT outages, isolated meters, late and duplicate
events, idempotent re-runs. Times are UTC; 2 Dec 2026 06:00 UTC is 11:30 IST."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from service.outages.detection import rebuild

START = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
END = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)


def _outages(session: Any) -> list[tuple[Any, ...]]:
    return session.execute(
        text(
            "SELECT level, subject, rule_id, to_char(started_at AT TIME ZONE 'UTC', 'HH24:MI:SS'),"
            " to_char(ended_at AT TIME ZONE 'UTC', 'HH24:MI:SS'), duration_s, consumers_affected,"
            " meters_reporting, feeder_code FROM outages ORDER BY started_at, level, subject"
        )
    ).all()


def test_a_dt_burst_is_one_dt_outage_closed_by_restorations_with_its_duration(
    session: Any, grid: Any, ingest: Any
) -> None:
    # 4 of OD1's 6 meters fail within 2 minutes (share 50%, at least 3); OD2 stays on.
    ingest([(f"OD1-M{i}", 101, f"2026-12-02T06:00:{10 * i:02d}", None) for i in range(1, 5)])
    rebuild(session(), START, END)
    session.commit()
    assert _outages(session) == [("dt", "OD1", "OUT-DT", "06:00:10", None, None, 6, 4, "OF1")]
    # Restorations (separate 102 rows): supply is back when fewer than 3 members remain off.
    ingest([(f"OD1-M{i}", 102, f"2026-12-02T07:0{i}:00", None) for i in range(1, 5)])
    rebuild(session(), START, END)
    session.commit()
    # need = max(3, ceil(6 * 50%)) = 3: the second restoration (07:02) leaves 2 off.
    assert _outages(session) == [("dt", "OD1", "OUT-DT", "06:00:10", "07:02:00", 3710, 6, 4, "OF1")]
    members = session.execute(text("SELECT count(*), count(on_at) FROM outage_meters")).one()
    assert tuple(members) == (4, 4)


def test_an_isolated_meter_with_neighbours_on_supply_is_a_service_issue(
    session: Any, grid: Any, ingest: Any
) -> None:
    ingest(
        [
            ("OD2-M1", 101, "2026-12-02T06:00:00", "2026-12-02T06:20:00"),  # a restored_at on the fail row
            ("OD2-M2", 101, "2026-12-02T06:00:00", "2026-12-02T06:03:00"),
        ]
    )  # within the 300 s grace: no outage
    rebuild(session(), START, END)
    session.commit()
    meter = grid.meters["OD2-M1"]
    assert _outages(session) == [
        ("meter", str(meter), "OUT-SERVICE", "06:00:00", "06:20:00", 1200, 1, 1, "OF1")
    ]


def test_rerunning_rebuilds_the_same_outages_and_duplicates_change_nothing(
    session: Any, grid: Any, ingest: Any
) -> None:
    rows = [(f"OD1-M{i}", 101, f"2026-12-02T06:00:{10 * i:02d}", "2026-12-02T06:30:00") for i in range(1, 5)]
    ingest(rows)
    rebuild(session(), START, END)
    session.commit()
    first = _outages(session)
    ids = session.execute(text("SELECT id FROM outages")).scalars().all()
    ingest(rows)  # the same events delivered again
    ingest([(f"OD1-M{i}", 101, f"2026-12-02T06:00:{10 * i:02d}", "2026-12-02T06:30:00") for i in (1, 2)])
    rebuild(session(), START, END)
    rebuild(session(), START, END)
    session.commit()
    assert _outages(session) == first
    assert session.execute(text("SELECT id FROM outages")).scalars().all() == ids
    assert first == [("dt", "OD1", "OUT-DT", "06:00:10", "06:30:00", 1790, 6, 4, "OF1")]


def test_a_late_event_turns_service_issues_into_a_dt_outage(session: Any, grid: Any, ingest: Any) -> None:
    ingest([(f"OD2-M{i}", 101, f"2026-12-02T06:00:0{i}", "2026-12-02T06:40:00") for i in (1, 2)])
    rebuild(session(), START, END)
    session.commit()
    assert [r[0] for r in _outages(session)] == ["meter", "meter"]
    # The third meter's last gasp arrives an hour late (a re-delivery from the HES queue).
    ingest([("OD2-M3", 101, "2026-12-02T05:59:59", "2026-12-02T06:40:00")])
    rebuild(session(), START, END)
    session.commit()
    assert _outages(session) == [("dt", "OD2", "OUT-DT", "05:59:59", "06:40:00", 2401, 4, 3, "OF1")]


def test_a_feeder_burst_is_one_feeder_outage_and_covers_its_dts(session: Any, grid: Any, ingest: Any) -> None:
    ingest([(f"{dt}-M{i}", 101, "2026-12-02T06:00:00", "2026-12-02T06:10:00")
            for dt, n in (("OD1", 6), ("OD2", 4)) for i in range(1, n + 1)])  # fmt: skip
    rebuild(session(), START, END)
    session.commit()
    assert _outages(session) == [("feeder", "OF1", "OUT-FEEDER", "06:00:00", "06:10:00", 600, 10, 10, "OF1")]


def test_an_outage_open_before_the_span_is_closed_by_a_restoration_inside_it(
    session: Any, grid: Any, ingest: Any
) -> None:
    ingest([(f"OD1-M{i}", 101, "2026-12-01T23:00:00", None) for i in range(1, 5)])
    rebuild(session(), datetime(2026, 12, 1, tzinfo=UTC), START)
    session.commit()
    ingest([(f"OD1-M{i}", 102, "2026-12-02T01:00:00", None) for i in range(1, 5)])
    rebuild(session(), START, END)
    session.commit()
    assert _outages(session) == [("dt", "OD1", "OUT-DT", "23:00:00", "01:00:00", 7200, 6, 4, "OF1")]
