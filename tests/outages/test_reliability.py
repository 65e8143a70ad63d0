"""SAIFI, SAIDI, CAIDI and the outage-failure monitoring report against a hand-computed month.

November 2026 on feeder OF1 (OD1: 6 consumers, OD2: 4; 10 served):
- OD1 outage 10 Nov 06:00-07:00 UTC (4 of 6 meters; back when the 2nd is restored): 6 consumers x 60 min
- OD2-M1 alone 12 Nov 10:00-10:20: a service issue, 1 consumer x 20 min
- OD2 outage 15 Nov 08:00-08:04 (3 of 4): 4 minutes, momentary, not in the indices
SAIFI = 7 / 10 = 0.7; SAIDI = 380 / 10 = 38.0 min; CAIDI = 380 / 7 = 54.29 min.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from service.auth.principal import Principal
from service.outages.detection import rebuild
from service.reports import registry, running

ALL = Principal("user", "analyst", None, role="analyst")


def _run(session: Any, name: str, **args: str) -> list[dict[str, Any]]:
    report = registry.get(name)
    assert report is not None
    resolved = running.resolve(session(), report, {"period": "2026-11", **args}, ALL, date(2026, 12, 3))
    return running.page(session(), report, resolved, ALL, 1, 500)["items"]


def test_reliability_indices_and_outage_failures_match_the_hand_computed_month(
    session: Any, grid: Any, ingest: Any
) -> None:
    # Only OF1's consumers are supplied, so every level's denominator is its 10.
    session.execute(
        text("DELETE FROM consumer_supply_links WHERE NOT (consumer_id = ANY(:ids))"),
        {"ids": list(grid.consumers.values())},
    )
    session.commit()
    ingest(
        [("OD1-M1", 101, "2026-11-10T06:00:00", "2026-11-10T06:30:00")]
        + [(f"OD1-M{i}", 101, "2026-11-10T06:00:00", "2026-11-10T07:00:00") for i in (2, 3, 4)]
        + [("OD2-M1", 101, "2026-11-12T10:00:00", "2026-11-12T10:20:00")]
        + [(f"OD2-M{i}", 101, "2026-11-15T08:00:00", "2026-11-15T08:04:00") for i in (1, 2, 3)]
    )
    rebuild(session(), datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    session.commit()
    by_feeder = [r for r in _run(session, "reliability_indices", by="feeder") if r["subject"] == "OF1"]
    expected = {
        "customers_served": 10, "interruptions": 2, "customer_interruptions": 7,
        "customer_minutes": Decimal("380.0"), "saifi": Decimal("0.7000"),
        "saidi_min": Decimal("38.00"), "caidi_min": Decimal("54.29"),
    }  # fmt: skip
    assert [{k: r[k] for k in expected} for r in by_feeder] == [expected]
    for level, unit in (("division", "BPLC-D1"), ("circle", "BPLC")):
        rows = _run(session, "reliability_indices", by=level)
        assert [(r["subject"], {k: r[k] for k in expected}) for r in rows] == [(unit, expected)]
    failures = _run(session, "outage_failure_monitoring", by="dt")
    assert [
        (r["subject"], r["feeder"], r["outages"], r["hours_off"], r["consumers_affected"]) for r in failures
    ] == [
        ("OD1", "OF1", 1, Decimal("1.00"), 6),
        ("OD2", "OF1", 1, Decimal("0.07"), 4),
    ]
    assert _run(session, "outage_failure_monitoring", by="feeder") == []
    assert _run(session, "reliability_indices", by="feeder", period="2026-10")[0]["interruptions"] == 0
