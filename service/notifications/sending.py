"""The notification outbox: `notify` inside the caller's transaction; RQ jobs send after commit.

A row is its own outbox entry; `delivery.py` claims and sends it. A periodic sweep enqueues
rows that are due (deferred by quiet hours, waiting for a retry, or lost with Redis).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from notifications.policy import URGENT_QUEUE
from notifications.sealing import seal
from service.auth import User
from service.masterdata import Consumer
from service.notifications.engine import NotificationEngine, current_engine
from service.notifications.models import DeviceToken, Notification, NotificationOptOut
from service.notifications.queueing import enqueue_pending
from service.unit_of_work import collect_after_commit

PENDING_KEY = "cmdms.notifications_pending"
COUNTED_STATUSES = ("queued", "sending", "sent", "delivered")


@dataclass(frozen=True)
class NotifyResult:
    notification_id: int
    status: str
    created: bool  # False: the dedupe key already existed, nothing new was written


def _utcnow() -> datetime:
    return datetime.now(UTC)


def notify(
    session: Session,
    *,
    message_type: str,
    params: Mapping[str, Any],
    dedupe_key: str,
    consumer_id: int | None = None,
    user_id: int | None = None,
    language: str | None = None,
    channels: Sequence[str] | None = None,
    secret_params: Mapping[str, str] | None = None,
    now: datetime | None = None,
    engine: NotificationEngine | None = None,
) -> NotifyResult:
    """Record a message for a consumer or a staff member; it is sent after the caller commits.

    Same `dedupe_key` -> the existing row, nothing new. `secret_params` (an OTP) are stored
    sealed and shown masked. Raises ValueError for an unknown recipient, message type or bad
    params (naming the parameter).
    """
    engine = engine or current_engine()
    now = now or _utcnow()
    if (consumer_id is None) == (user_id is None):
        raise ValueError("give exactly one of consumer_id and user_id")
    try:
        rule = engine.policy.for_type(message_type)
    except KeyError as exc:
        raise ValueError(str(exc.args[0])) from None

    recipient = _recipient(session, consumer_id, user_id)
    language = language or recipient.language
    secret_params = dict(secret_params or {})
    masked = {name: "*" * len(str(value)) for name, value in secret_params.items()}
    rendered = engine.templates.render(message_type, language, {**params, **masked})
    plan = list(channels or rule.channels)

    status, queue, not_before, error = "queued", URGENT_QUEUE if rule.urgent else "default", now, None
    if not recipient.mobile and not ("push" in plan and _has_device(session, consumer_id)):
        status, error = "failed", "no_contact: no mobile number and no registered app device"
    else:
        opted_out = recipient.opted_out
        sent_last_hour = (
            0 if rule.mandatory else _recent_informational(session, engine, consumer_id, user_id, now)
        )
        decision = engine.policy.decide(
            message_type, now=now, opted_out=opted_out, sent_last_hour=sent_last_hour
        )
        status, queue, not_before = decision.status, decision.queue, decision.not_before
        error = decision.reason if decision.status == "suppressed" else None

    values: dict[str, Any] = dict(
        recipient_kind="consumer" if consumer_id is not None else "user",
        consumer_id=consumer_id,
        user_id=user_id,
        org_unit_id=recipient.org_unit_id,
        mobile=recipient.mobile,
        channels=",".join(plan),
        message_type=message_type,
        language=rendered.language,
        params={k: str(v) for k, v in params.items()},
        sealed_params={k: seal(engine.secret_key, str(v)) for k, v in secret_params.items()} or None,
        title=rendered.title,
        body=rendered.text,
        sms_segments=rendered.length.segments,
        dedupe_key=dedupe_key,
        priority="urgent" if rule.urgent else "normal",
        queue=queue,
        status=status,
        attempts=0,
        max_attempts=engine.policy.retry_for(message_type).max_attempts,
        next_attempt_at=not_before,
        error=error,
        failed_at=now if status == "failed" else None,
    )
    stmt = insert(Notification).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    new_id = session.execute(stmt.returning(Notification.id)).scalar_one_or_none()
    if new_id is None:  # the key exists (a re-run, or a concurrent transaction took it first)
        row = session.execute(
            select(Notification.id, Notification.status).where(Notification.dedupe_key == dedupe_key)
        ).one()
        return NotifyResult(row.id, row.status, False)
    if status == "queued" and not_before <= now:  # deferred ones wait for the sweep
        collect_after_commit(session, PENDING_KEY, (new_id, queue), enqueue_pending)
    return NotifyResult(new_id, status, True)


@dataclass(frozen=True)
class _Recipient:
    mobile: str | None
    language: str
    org_unit_id: int | None
    opted_out: bool = False


def _recipient(session: Session, consumer_id: int | None, user_id: int | None) -> _Recipient:
    if consumer_id is not None:
        # One round trip for the consumer and the opt-out (notify runs per consumer in bulk).
        consumer = session.execute(
            select(
                Consumer.mobile,
                Consumer.language,
                Consumer.org_unit_id,
                NotificationOptOut.consumer_id.is_not(None).label("opted_out"),
            )
            .outerjoin(NotificationOptOut, NotificationOptOut.consumer_id == Consumer.id)
            .where(Consumer.id == consumer_id)
        ).first()
        if consumer is None:
            raise ValueError(f"unknown consumer {consumer_id}")
        return _Recipient(consumer.mobile, consumer.language, consumer.org_unit_id, bool(consumer.opted_out))
    user = session.execute(select(User.mobile, User.org_unit_id).where(User.id == user_id)).first()
    if user is None:
        raise ValueError(f"unknown user {user_id}")
    # Staff read CMDMS in English; users carry no language preference yet.
    return _Recipient(user.mobile, "en", user.org_unit_id)


def _has_device(session: Session, consumer_id: int | None) -> bool:
    if consumer_id is None:
        return False
    return bool(
        session.scalar(
            select(
                select(DeviceToken.id)
                .where(DeviceToken.consumer_id == consumer_id, DeviceToken.retired_at.is_(None))
                .exists()
            )
        )
    )


def _recent_informational(
    session: Session, engine: NotificationEngine, consumer_id: int | None, user_id: int | None, now: datetime
) -> int:
    informational = [name for name, rule in engine.policy.message_types.items() if not rule.mandatory]
    who = (
        Notification.consumer_id == consumer_id
        if consumer_id is not None
        else Notification.user_id == user_id
    )
    return int(
        session.scalar(
            select(func.count(Notification.id)).where(
                who,
                Notification.message_type.in_(informational),
                Notification.status.in_(COUNTED_STATUSES),
                Notification.created_at > now - timedelta(hours=1),
            )
        )
        or 0
    )
