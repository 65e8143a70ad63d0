"""Aggregates kept incrementally equal aggregates computed from scratch, after a late
re-delivery; TOD-zone energy per meter-day matches the determinants' zones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from rules.determinants import DEFAULT_TOD_ZONES, zone_of, zone_table
from service import aggregates
from tests.reports.conftest import Grid, interval_ends, intervals, network

TABLES = {
    "agg_meter_day": "meter_id, day",
    "agg_hour": "subject_kind, subject_id, hour_end",
    "agg_network_day": "network_kind, network_id, day",
    "agg_org_day": "org_unit_id, day, meter_class",
    "agg_org_month": "org_unit_id, month, meter_class",
    "agg_scalar_read": "meter_id, read_at",
}


def snapshot(session: Any) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table, key in TABLES.items():
        cols = [
            c
            for c in session.execute(
                text(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"
                ),
                {"t": table},
            ).scalars()
            if c != "updated_at"
        ]
        rows = session.execute(text(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {key}")).all()  # noqa: S608
        out[table] = [tuple(_rounded(v) for v in r) for r in rows]
    return out


def _rounded(value: Any) -> Any:
    # Sums of the same floats in another order differ in the last bits.
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def from_scratch(session: Any, first: date, last: date) -> None:
    session.execute(text("TRUNCATE " + ", ".join(TABLES)))
    meters = list(session.execute(text("SELECT id FROM meters")).scalars())
    aggregates.refresh(session, meters, first, last, with_network=False)
    aggregates.refresh_all_feeders(session, first, last)


def test_aggregates_after_a_late_redelivery_equal_aggregates_from_scratch(
    session: Any, grid: Grid, ingest_and_validate: Callable[..., Any]
) -> None:
    days = 4
    ends = interval_ends(days)
    for serial, (_dt, values) in grid.loads.items():
        ingest_and_validate(intervals(serial, ends, values[: days * 96]))
    ingest_and_validate(network("feeder", "RF1", ends, np.full(days * 96, 3.0)))
    # Late: day 2 of RM1 again with other values, and RF1's day 3 with two intervals changed.
    later = grid.loads["RM1"][1][96:192] * 1.5
    ingest_and_validate(intervals("RM1", ends[96:192], later))
    changed = np.full(96, 3.0)
    changed[10:12] = 4.5
    ingest_and_validate(network("feeder", "RF1", ends[192:288], changed))
    kept = snapshot(session)
    day2 = session.execute(
        text("SELECT kwh_import FROM agg_meter_day WHERE meter_id = :m AND day = '2026-10-02'"),
        {"m": grid.ids["RM1"]},
    ).scalar_one()
    assert day2 == pytest.approx(float(later.sum()), rel=1e-9)
    from_scratch(session, date(2026, 10, 1), date(2026, 10, days))
    session.commit()
    fresh = snapshot(session)
    for table in TABLES:
        for a, b in zip(fresh[table], kept[table], strict=True):
            assert a == b, (table, a, b)
    assert len(kept["agg_meter_day"]) == 7 * days and len(kept["agg_network_day"]) > 0


def test_redelivery_of_the_same_values_changes_no_aggregate(
    session: Any, grid: Grid, ingest_and_validate: Callable[..., Any]
) -> None:
    ends = interval_ends(2)
    values = grid.loads["RM2"][1][:192]
    ingest_and_validate(intervals("RM2", ends, values))
    before = snapshot(session)
    ingest_and_validate(intervals("RM2", ends, values))
    assert snapshot(session) == before


def test_tod_zone_energy_of_a_meter_day_matches_the_determinants_zones(
    session: Any, grid: Grid, ingest_and_validate: Callable[..., Any]
) -> None:
    ends = interval_ends(1)
    values = grid.loads["RM4"][1][:96]
    ingest_and_validate(intervals("RM4", ends, values))
    stored = session.execute(
        text("SELECT kwh_by_zone FROM agg_meter_day WHERE meter_id = :m"), {"m": grid.ids["RM4"]}
    ).scalar_one()
    epoch = ends.astype("datetime64[s]").astype(np.int64)
    zones = zone_of(epoch, np.full(96, 900, dtype=np.int64), zone_table(DEFAULT_TOD_ZONES))
    expected = [float(values[zones == z].sum()) for z in range(1, 5)]
    assert stored == pytest.approx(expected, rel=1e-9)
    assert sum(stored) == pytest.approx(float(values.sum()), rel=1e-9)
