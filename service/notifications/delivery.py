"""Delivering queued notifications: claim a row, try its channels, record the outcome.

Called by the RQ jobs in `jobs.py`. The claim (queued -> sending, SELECT ... FOR UPDATE SKIP
LOCKED) is committed before any provider call, so two jobs for one row never both send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifications.channels import InvalidDeviceToken, ProviderReceipt, SendError
from notifications.sealing import SealError, unseal
from notifications.templates import ParamError
from service.notifications.engine import NotificationEngine
from service.notifications.models import DeviceToken, Notification

log = logging.getLogger(__name__)
# A row still "sending" this long after its claim belongs to a worker that died mid-call.
STALE_SENDING = timedelta(minutes=10)


def _utcnow() -> datetime:
    return datetime.now(UTC)


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
    if row.status != "queued":
        # A sealed OTP is needed only to send; once sent (or given up) it is dropped, so the
        # code does not outlive its purpose in the table.
        row.sealed_params = None
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
