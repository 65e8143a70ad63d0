"""A consumer's planned and current outages, for the Consumer 360 page and the consumer app."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from service.masterdata.network import meters_of, supply_of
from service.outages.detection import local_day
from service.outages.models import Outage, PlannedOutage


def _on(model: Any, dt: str | None, feeder: str | None) -> Any:
    conditions = []
    if dt is not None:
        conditions.append(and_(model.level == "dt", model.dt_code == dt))
    if feeder is not None:
        conditions.append(and_(model.level == "feeder", model.feeder_code == feeder))
    return or_(*conditions) if conditions else false()


def outages_for_consumer(session: Session, consumer_id: int, now: datetime) -> list[dict[str, Any]]:
    """Outages now on the consumer's DT, feeder or own meter, then planned ones not yet over on
    their DT or feeder (as the network stands today), soonest first."""
    day = local_day(now)
    dt, feeder = supply_of(session, consumer_id, day)
    meters = meters_of(session, consumer_id, day)
    current = session.scalars(
        select(Outage)
        .where(Outage.ended_at.is_(None), Outage.started_at <= now)
        .where(or_(_on(Outage, dt, feeder), and_(Outage.level == "meter", Outage.meter_id.in_(meters))))
        .order_by(Outage.started_at)
    ).all()
    planned = session.scalars(
        select(PlannedOutage)
        .where(
            PlannedOutage.status == "scheduled", PlannedOutage.ends_at > now, _on(PlannedOutage, dt, feeder)
        )
        .order_by(PlannedOutage.starts_at)
    ).all()
    rows: list[dict[str, Any]] = [
        {
            "kind": "current",
            "level": o.level,
            "where": o.subject if o.level != "meter" else "own connection",
            "from": o.started_at,
            "until": "ongoing",
            "detail": "service issue" if o.level == "meter" else f"{o.consumers_affected} consumers affected",
        }
        for o in current
    ]
    rows += [
        {
            "kind": "planned",
            "level": p.level,
            "where": p.subject,
            "from": p.starts_at,
            "until": p.ends_at,
            "detail": p.reason,
        }
        for p in planned
    ]
    return rows
