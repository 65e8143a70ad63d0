"""Consumers' app devices (FCM tokens), opt-outs, and provider delivery reports."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.audit.log import Actor, record
from service.notifications.models import DeviceToken, Notification, NotificationOptOut

PLATFORMS = ("android", "ios", "web")
# Twilio MessageStatus values -> our status; the others (queued, sending, sent, accepted,
# scheduled) keep the row at "sent".
TWILIO_FINAL = {"delivered": "delivered", "read": "delivered", "undelivered": "failed", "failed": "failed"}


def register_device(session: Session, consumer_id: int, token: str, platform: str, actor: Actor) -> int:
    """Add (or revive) a consumer's app token; a token moving to another consumer follows it."""
    if platform not in PLATFORMS:
        raise ValueError(f"platform: expected one of {PLATFORMS}")
    stmt = insert(DeviceToken).values(consumer_id=consumer_id, token=token, platform=platform)
    stmt = stmt.on_conflict_do_update(
        index_elements=["token"],
        set_={"consumer_id": consumer_id, "platform": platform, "retired_at": None, "retired_reason": None},
    )
    token_id = int(session.execute(stmt.returning(DeviceToken.id)).scalar_one())
    record(
        session, actor, "register_device", "device_token", str(token_id), None, {"consumer_id": consumer_id}
    )
    return token_id


def set_opt_out(
    session: Session, consumer_id: int, opted_out: bool, actor: Actor, source: str = "ccc"
) -> None:
    current = session.get(NotificationOptOut, consumer_id)
    if opted_out and current is None:
        session.add(NotificationOptOut(consumer_id=consumer_id, source=source))
    elif not opted_out and current is not None:
        session.delete(current)
    record(
        session,
        actor,
        "notification_opt_out",
        "consumer",
        str(consumer_id),
        {"opted_out": current is not None},
        {"opted_out": opted_out},
    )


def apply_twilio_status(
    session: Session, message_sid: str, message_status: str, error_code: str | None
) -> Notification | None:
    """A Twilio status callback: move the row to delivered/failed; never backwards."""
    row = session.scalar(
        select(Notification)
        .where(Notification.provider == "twilio", Notification.provider_id == message_sid)
        .with_for_update()
    )
    if row is None:
        return None
    row.provider_status = message_status
    final = TWILIO_FINAL.get(message_status)
    now = datetime.now(UTC)
    if final == "delivered" and row.status in ("sent", "failed", "sending"):
        row.status, row.delivered_at = "delivered", now
    elif final == "failed" and row.status in ("sent", "sending"):
        row.status, row.failed_at = "failed", now
        row.error = f"twilio_{error_code}: {message_status}" if error_code else message_status
    return row
