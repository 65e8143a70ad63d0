"""Listing notifications for the CCC and admins: filters, org scoping, paging."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.auth.scoping import can_see, scope_to_org
from service.masterdata import Consumer
from service.notifications.models import Notification

IST = ZoneInfo("Asia/Kolkata")


class UnknownConsumer(LookupError):
    pass


@dataclass(frozen=True)
class Filters:
    consumer_ivrs: str | None = None
    status: str | None = None
    message_type: str | None = None
    on_date: date | None = None  # created on this day, India time
    before_id: int | None = None
    limit: int = 100


def filtered_query(session: Session, principal: Principal, filters: Filters) -> Select[Any]:
    """(Notification, consumer IVRS) rows the principal may see, filtered, unordered."""
    stmt = select(Notification, Consumer.ivrs_number).outerjoin(
        Consumer, Consumer.id == Notification.consumer_id
    )
    stmt = scope_to_org(stmt, Notification.org_unit_id, principal)
    if filters.consumer_ivrs:
        consumer = session.execute(
            select(Consumer.id, Consumer.org_unit_id).where(Consumer.ivrs_number == filters.consumer_ivrs)
        ).first()
        # A consumer outside the principal's org units is as unknown as a missing one.
        if consumer is None or not can_see(session, principal, consumer.org_unit_id):
            raise UnknownConsumer(filters.consumer_ivrs)
        stmt = stmt.where(Notification.consumer_id == consumer.id)
    if filters.status:
        stmt = stmt.where(Notification.status == filters.status)
    if filters.message_type:
        stmt = stmt.where(Notification.message_type == filters.message_type)
    if filters.on_date:
        start = datetime.combine(filters.on_date, time(0), tzinfo=IST)
        stmt = stmt.where(
            Notification.created_at >= start, Notification.created_at < start + timedelta(days=1)
        )
    if filters.before_id:
        stmt = stmt.where(Notification.id < filters.before_id)
    return stmt


def list_notifications(session: Session, principal: Principal, filters: Filters) -> list[dict[str, Any]]:
    stmt = filtered_query(session, principal, filters).order_by(Notification.id.desc()).limit(filters.limit)
    return [as_dict(n, ivrs) for n, ivrs in session.execute(stmt).all()]


def as_dict(n: Notification, ivrs: str | None) -> dict[str, Any]:
    return {
        "id": n.id,
        "recipient_kind": n.recipient_kind,
        "consumer_id": n.consumer_id,
        "consumer_ivrs": ivrs,
        "user_id": n.user_id,
        "message_type": n.message_type,
        "language": n.language,
        "channels": n.channels.split(","),
        "channel": n.channel,
        "priority": n.priority,
        "status": n.status,
        "body": n.body,
        "sms_segments": n.sms_segments,
        "provider": n.provider,
        "provider_id": n.provider_id,
        "provider_status": n.provider_status,
        "attempts": n.attempts,
        "error": n.error,
        "dedupe_key": n.dedupe_key,
        "created_at": n.created_at,
        "next_attempt_at": n.next_attempt_at,
        "sent_at": n.sent_at,
        "delivered_at": n.delivered_at,
        "failed_at": n.failed_at,
    }


def for_consumer(
    session: Session, consumer_id: int, *, limit: int, offset: int = 0, exclude_types: tuple[str, ...] = ()
) -> tuple[int, list[dict[str, Any]]]:
    """(total, a page newest first) of what was sent to one consumer, as the consumer may see it:
    the message as sent (secrets masked), its channel and status; no provider or staff detail."""
    where = [Notification.consumer_id == consumer_id]
    if exclude_types:
        where.append(Notification.message_type.not_in(exclude_types))
    total = int(session.scalar(select(func.count(Notification.id)).where(*where)) or 0)
    rows = session.execute(
        select(Notification).where(*where).order_by(Notification.id.desc()).limit(limit).offset(offset)
    ).scalars()
    page = [
        {
            "id": n.id,
            "message_type": n.message_type,
            "language": n.language,
            "title": n.title,
            "body": n.body,
            "channel": n.channel,
            "status": n.status,
            "created_at": n.created_at,
            "sent_at": n.sent_at,
        }
        for n in rows
    ]
    return total, page
