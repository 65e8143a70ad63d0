"""Live outages for the control centre and the CCC portal: inferred outages still open and planned
ones in progress, with their circle and division, consumers affected and since when; scoped to
the viewer's org unit, filtered, one list for the page and the API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, column, func, literal, select, table, union_all
from sqlalchemy.sql.elements import ColumnElement

from service.auth.principal import Principal
from service.auth.scoping import scope_to_org
from service.outages.models import Outage, PlannedOutage
from service.web import lists

FILTERS = {
    "circle": "Circle",
    "division": "Division",
    "feeder": "Feeder",
    "dt": "DT",
    "level": "Level",
    "kind": "Kind",
}
LEVELS = ("feeder", "dt", "meter")
KINDS = ("inferred", "planned")

org_units = table("org_units", column("id"), column("code"), column("level"), column("path"))


def _rows(now: datetime) -> Any:
    inferred = select(
        literal("inferred").label("kind"),
        Outage.id.label("outage_id"),
        Outage.level,
        Outage.subject,
        Outage.feeder_code,
        Outage.dt_code,
        Outage.org_unit_id,
        Outage.consumers_affected,
        Outage.meters_reporting,
        Outage.started_at.label("since"),
        literal(None).label("until"),
    ).where(Outage.ended_at.is_(None), Outage.started_at <= now)
    planned = select(
        literal("planned").label("kind"),
        PlannedOutage.id.label("outage_id"),
        PlannedOutage.level,
        PlannedOutage.subject,
        PlannedOutage.feeder_code,
        PlannedOutage.dt_code,
        PlannedOutage.org_unit_id,
        PlannedOutage.consumers_affected,
        literal(0).label("meters_reporting"),
        PlannedOutage.starts_at.label("since"),
        PlannedOutage.ends_at.label("until"),
    ).where(PlannedOutage.status == "scheduled", PlannedOutage.starts_at <= now, PlannedOutage.ends_at > now)
    return union_all(inferred, planned).subquery("live")


def _ancestor(rows: Any, level: str) -> ColumnElement[Any]:
    own, anc = org_units.alias(f"own_{level}"), org_units.alias(f"anc_{level}")
    return (
        select(anc.c.code)
        .select_from(own)
        .join(anc, func.starts_with(own.c.path, anc.c.path))
        .where(own.c.id == rows.c.org_unit_id, anc.c.level == level)
        .limit(1)
        .scalar_subquery()
    )


def live_query(principal: Principal, args: Mapping[str, str], now: datetime) -> Select[Any]:
    rows = _rows(now)
    circle, division = (
        _ancestor(rows, "circle").label("circle"),
        _ancestor(rows, "division").label("division"),
    )
    inner = select(*rows.c, circle, division).subquery("placed")
    stmt = select(*inner.c)
    for name, col in (("circle", inner.c.circle), ("division", inner.c.division), ("feeder", inner.c.feeder_code),
                      ("dt", inner.c.dt_code), ("level", inner.c.level), ("kind", inner.c.kind)):  # fmt: skip
        if value := args.get(name):
            stmt = stmt.where(col == value)
    return scope_to_org(stmt, inner.c.org_unit_id, principal)


def _get(key: str) -> Any:
    return lambda row: row[key]


LIVE = lists.ListSpec(
    name="outages",
    sorts={
        "since": (column("since"), True),
        "consumers": (column("consumers_affected"), True),
        "feeder": (column("feeder_code"), False),
        "dt": (column("dt_code"), False),
    },
    default_sort="since",
    tiebreak=column("outage_id"),
    columns=tuple(
        lists.Column(label, _get(key))
        for key, label in (
            ("kind", "Kind"),
            ("level", "Level"),
            ("subject", "Where"),
            ("circle", "Circle"),
            ("division", "Division"),
            ("feeder_code", "Feeder"),
            ("dt_code", "DT"),
            ("consumers_affected", "Consumers affected"),
            ("meters_reporting", "Meters reporting"),
            ("since", "Since"),
            ("until", "Planned end"),
        )
    ),  # fmt: skip
    filters=FILTERS,
    rows="mappings",
)


def clean_args(raw: Mapping[str, Any]) -> dict[str, str]:
    args = {k: v for k in FILTERS if (v := (raw.get(k) or "").strip()[:40])}
    if args.get("level") not in (None, *LEVELS):
        args.pop("level")
    if args.get("kind") not in (None, *KINDS):
        args.pop("kind")
    return args


def as_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: (value.isoformat() if isinstance(value, datetime) else value)
        for key, value in row.items()
        if key != "org_unit_id"
    }
