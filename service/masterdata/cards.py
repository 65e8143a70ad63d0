"""A consumer's card for the people working a task: who, where, which meter, which DT and feeder."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.masterdata import listing
from service.masterdata.models import Consumer, Installation, Meter


def consumer_card(session: Session, principal: Principal, ivrs_number: str) -> dict[str, Any] | None:
    """The consumer as the principal may see it (None outside their area or unknown), with the
    meter installed now."""
    row = (
        session.execute(
            listing.filtered_query(session, "consumers", {}, principal).where(
                Consumer.ivrs_number == ivrs_number[:32]
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    consumer_id = session.scalar(select(Consumer.id).where(Consumer.ivrs_number == row["ivrs_number"]))
    meter = session.execute(
        select(Meter.id, Meter.serial_number, Meter.meter_class, Meter.make, Installation.installed_at)
        .join(Installation, Installation.meter_id == Meter.id)
        .join(Consumer, Consumer.id == Installation.consumer_id)
        .where(Consumer.ivrs_number == ivrs_number, Installation.removed_at.is_(None))
        .order_by(Installation.installed_at.desc())
    ).first()
    return {**dict(row), "id": consumer_id, "meter": dict(meter._mapping) if meter else None}


def meter_card(session: Session, principal: Principal, serial: str) -> dict[str, Any] | None:
    """A meter's nameplate and installation history, if the principal's area holds it."""
    row = (
        session.execute(
            listing.filtered_query(session, "meters", {}, principal).where(Meter.serial_number == serial[:40])
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    meter_id = session.scalar(select(Meter.id).where(Meter.serial_number == serial))
    history = (
        session.execute(
            select(
                Installation.installed_at,
                Installation.removed_at,
                Installation.initial_kwh,
                Installation.final_kwh,
                Consumer.ivrs_number,
                Consumer.name,
            )
            .outerjoin(Consumer, Consumer.id == Installation.consumer_id)
            .where(Installation.meter_id == meter_id)
            .order_by(Installation.installed_at.desc())
        )
        .mappings()
        .all()
    )
    return {**dict(row), "id": meter_id, "installations": [dict(h) for h in history]}
