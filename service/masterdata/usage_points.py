"""Usage points as CIM senders name them -> the meter installed there (master data's answer).

A usage point is a consumer's service point: CIM senders name it by its usage-point id (the
UsagePoint mRID master data holds) or by the consumer's IVRS number.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.masterdata.models import Consumer, Installation, Meter


def meters_for_usage_points(session: Session, usage_points: list[str]) -> dict[str, str]:
    """Usage point id -> serial of the meter installed on it now; unknown ones are absent."""
    if not usage_points:
        return {}
    found: dict[str, str] = {}
    for column in (Consumer.ivrs_number, Consumer.usage_point_id):
        rows = session.execute(
            select(column, Meter.serial_number)
            .join(Installation, Installation.consumer_id == Consumer.id)
            .join(Meter, Meter.id == Installation.meter_id)
            .where(column.in_(usage_points), Installation.removed_at.is_(None))
        ).all()
        found.update({str(point): str(serial) for point, serial in rows})
    return found
