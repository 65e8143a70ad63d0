"""Restoration notices: when an outage closes, each consumer it affected hears that supply is back.

Both paths call this — the stream when it sees the outage close, the reconciling batch pass for
what the stream missed — and each consumer's message has a dedupe key per outage, so a consumer
hears once. A restoration learned long after the fact (a re-delivered day of events) is not
announced: it would only confuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.notifications import notify
from service.outages.detection import Days, local_day
from service.outages.models import Outage
from service.web.times import to_ist

MAX_AGE = timedelta(hours=6)


def consumers_of(outage: Outage, days: Days) -> set[int]:
    """The consumers an outage cut off, with the network of its first local day."""
    net = days.on(local_day(outage.started_at))
    if outage.level == "dt" and outage.dt_code is not None:
        return set(net.dt_consumers.get(outage.dt_code, ()))
    if outage.level == "feeder" and outage.feeder_code is not None:
        return set(net.feeder_consumers.get(outage.feeder_code, ()))
    consumer = None if outage.meter_id is None else net.meter_consumer.get(outage.meter_id)
    return set() if consumer is None else {consumer}


def area_of(outage: Outage) -> str:
    if outage.level == "feeder":
        return f"feeder {outage.feeder_code}"
    if outage.level == "dt":
        return f"DT {outage.dt_code}"
    return f"DT {outage.dt_code}" if outage.dt_code else "your area"


def notify_restored(
    session: Session, outage_ids: Sequence[int], now: datetime, days: Days | None = None
) -> int:
    """Queue a `supply_restored` message to every consumer of each closed outage; returns how
    many were new. Outages still open, or closed more than MAX_AGE before `now`, are skipped."""
    if not outage_ids:
        return 0
    days = days or Days(session)
    outages = session.scalars(
        select(Outage)
        .where(Outage.id.in_(list(outage_ids)), Outage.ended_at.is_not(None))
        .where(Outage.ended_at >= now - MAX_AGE)
        .order_by(Outage.id)
    ).all()
    created = 0
    for outage in outages:
        local = to_ist(outage.ended_at)
        params = {"area": area_of(outage)[:40], "time": local.strftime("%d-%m-%Y %H:%M") if local else ""}
        for consumer_id in sorted(consumers_of(outage, days)):
            sent = notify(
                session,
                consumer_id=consumer_id,
                message_type="supply_restored",
                params=params,
                dedupe_key=f"outage-restored:{outage.id}:{consumer_id}",
                now=now,
            )
            created += sent.created
    return created


def restorations_since(session: Session, since: datetime, until: datetime) -> list[int]:
    """Inferred outages that ended in [since, until] (the reconciling pass announces them)."""
    return list(
        session.scalars(
            select(Outage.id)
            .where(Outage.cause == "inferred", Outage.ended_at >= since, Outage.ended_at <= until)
            .order_by(Outage.id)
        )
    )
