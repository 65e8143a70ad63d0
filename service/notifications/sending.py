"""The notification outbox: `notify` inside the caller's transaction; RQ jobs send after commit.

A row is its own outbox entry. A job claims it (SELECT ... FOR UPDATE SKIP LOCKED, queued ->
sending, committed) before calling the provider and records the outcome afterwards, so two
jobs for one row never both send. A periodic sweep enqueues rows that are due (deferred by
quiet hours, waiting for a retry, or whose enqueue was lost with Redis).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from notifications.channels import InvalidDeviceToken, ProviderReceipt, SendError
from notifications.policy import URGENT_QUEUE
from notifications.sealing import SealError, seal, unseal
from notifications.templates import ParamError
from service.auth.models import User
from service.masterdata.models import Consumer
from service.notifications.engine import NotificationEngine, current_engine
from service.notifications.models import DeviceToken, Notification, NotificationOptOut

log = logging.getLogger(__name__)
PENDING_KEY = "cmdms.notifications_pending"
# A row still "sending" this long after its claim belongs to a worker that died mid-call.
STALE_SENDING = timedelta(minutes=10)
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
        session.info.setdefault(PENDING_KEY, []).append((new_id, queue))
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


def take_pending(session: Session) -> list[tuple[int, str]]:
    return session.info.pop(PENDING_KEY, [])


# --- sending (RQ side) -------------------------------------------------------------------


@dataclass(frozen=True)
class SendWork:
    """What a job needs to call the providers, read under the claim; no ORM objects."""

    notification_id: int
    message_type: str
    plan: tuple[str, ...]
    mobile: str | None
    tokens: tuple[tuple[int, str], ...]
    title: str
    text: str
    dlt_template_id: str | None


@dataclass
class Outcome:
    receipt: ProviderReceipt | None = None
    channel: str | None = None
    device_token_id: int | None = None
    retryable: bool = False
    errors: list[str] = field(default_factory=list)
    retired_tokens: list[tuple[int, str]] = field(default_factory=list)


def claim(
    session: Session, notification_id: int, now: datetime, engine: NotificationEngine
) -> SendWork | None:
    """queued and due -> sending (the caller commits before any provider call)."""
    row = session.scalar(
        select(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status == "queued",
            Notification.next_attempt_at <= now,
        )
        .with_for_update(skip_locked=True)
    )
    if row is None:
        return None
    row.status, row.attempts, row.claimed_at = "sending", row.attempts + 1, _utcnow()
    text = row.body
    if row.sealed_params:
        try:
            secrets_ = {k: unseal(engine.secret_key, v) for k, v in row.sealed_params.items()}
            text = engine.templates.render(row.message_type, row.language, {**row.params, **secrets_}).text
        except (SealError, ParamError) as exc:
            text = ""
            log.error("notification %s: cannot unseal its secret parameters: %s", row.id, exc)
    tokens: tuple[tuple[int, str], ...] = ()
    plan = tuple(row.channels.split(","))
    if "push" in plan and row.consumer_id is not None:
        tokens = tuple(
            (r.id, r.token)
            for r in session.execute(
                select(DeviceToken.id, DeviceToken.token)
                .where(DeviceToken.consumer_id == row.consumer_id, DeviceToken.retired_at.is_(None))
                .order_by(DeviceToken.id.desc())
            )
        )
    rule = engine.policy.message_types.get(row.message_type)
    return SendWork(
        row.id,
        row.message_type,
        plan,
        row.mobile,
        tokens,
        row.title,
        text,
        rule.dlt_template_id if rule else None,
    )


def deliver(engine: NotificationEngine, work: SendWork) -> Outcome:
    """Try the channels in order (push, then SMS); no database here."""
    outcome = Outcome()
    if not work.text:
        outcome.errors.append("sealed parameters unreadable (app secret changed?)")
        return outcome
    data = {"message_type": work.message_type, "notification_id": str(work.notification_id)}
    for channel in work.plan:
        if channel == "push":
            if engine.push is None or not work.tokens:
                outcome.errors.append("push: no registered device")
                continue
            for token_id, token in work.tokens:
                try:
                    receipt = engine.push.send(token, work.title, work.text, data)
                except InvalidDeviceToken as exc:
                    outcome.retired_tokens.append((token_id, str(exc.code)))
                    outcome.errors.append(f"push: token {token_id} {exc.code}")
                    continue
                except SendError as exc:
                    # The push service itself failed: the other tokens would too; fall back.
                    outcome.retryable |= exc.retryable
                    outcome.errors.append(f"push: {exc}")
                    break
                except Exception as exc:  # noqa: BLE001 - an adapter bug must not lose the message
                    outcome.retryable = True
                    outcome.errors.append(f"push: {type(exc).__name__}: {exc}")
                    break
                outcome.receipt, outcome.channel, outcome.device_token_id = receipt, "push", token_id
                return outcome
            continue
        sender = engine.sms_sender(channel)
        if sender is None:
            outcome.errors.append(f"{channel}: not configured")
            continue
        if not work.mobile:
            outcome.errors.append(f"{channel}: no mobile number")
            continue
        try:
            outcome.receipt = sender.send(work.mobile, work.text, work.dlt_template_id)
            outcome.channel = channel
            return outcome
        except SendError as exc:
            outcome.retryable |= exc.retryable
            outcome.errors.append(f"{channel}: {exc}")
        except Exception as exc:  # noqa: BLE001 - an adapter bug must not lose the message
            outcome.retryable = True
            outcome.errors.append(f"{channel}: {type(exc).__name__}: {exc}")
    return outcome


def finish(session: Session, notification_id: int, outcome: Outcome, engine: NotificationEngine) -> str:
    """Record the outcome of one attempt; returns the new status."""
    now = _utcnow()
    row = session.get(Notification, notification_id, with_for_update=True)
    assert row is not None
    for token_id, reason in outcome.retired_tokens:
        session.execute(
            update(DeviceToken)
            .where(DeviceToken.id == token_id, DeviceToken.retired_at.is_(None))
            .values(retired_at=now, retired_reason=reason)
        )
    error = "; ".join(outcome.errors)[:2000] or None
    if outcome.receipt is not None:
        row.status, row.sent_at, row.channel = "sent", now, outcome.channel
        row.provider, row.provider_id = outcome.receipt.provider, outcome.receipt.provider_id
        row.provider_status, row.device_token_id = outcome.receipt.status, outcome.device_token_id
        row.error = error  # what was tried first, when it fell back
        if outcome.device_token_id is not None:
            session.execute(
                update(DeviceToken).where(DeviceToken.id == outcome.device_token_id).values(last_used_at=now)
            )
    elif outcome.retryable and row.attempts < row.max_attempts:
        row.status, row.error = "queued", error
        row.next_attempt_at = engine.policy.next_attempt_at(row.message_type, row.attempts, now)
    else:
        row.status, row.error, row.failed_at = "failed", error, now
    return row.status


def due(session: Session, now: datetime, limit: int = 1000) -> list[tuple[int, str]]:
    """Queued rows that are due, urgent first; rows stuck in 'sending' are closed as failed.

    A row stuck in 'sending' belongs to a worker that died between the provider call and its
    commit: the message may be out. Sending it again could duplicate it, so it is marked
    failed with reason outcome_unknown (visible on the page); a Twilio status callback still
    moves it to delivered if it was.
    """
    session.execute(
        update(Notification)
        .where(Notification.status == "sending", Notification.claimed_at < now - STALE_SENDING)
        .values(status="failed", failed_at=now, error="outcome_unknown: worker stopped during the send")
    )
    rows = session.execute(
        select(Notification.id, Notification.queue)
        .where(Notification.status == "queued", Notification.next_attempt_at <= now)
        .order_by(Notification.priority.desc(), Notification.next_attempt_at)
        .limit(limit)
    ).all()
    return [(r.id, r.queue) for r in rows]
