"""Tables of the notifications area: the notification outbox, device tokens, opt-outs, staff OTPs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

# queued -> sending -> sent -> delivered | failed;  queued -> suppressed | failed
STATUSES = ("queued", "sending", "sent", "delivered", "failed", "suppressed")
RECIPIENT_KINDS = ("consumer", "user")
PRIORITIES = ("urgent", "normal")

_now = func.now()


class Notification(db.Model):  # type: ignore[name-defined,misc]
    """One message to one person; the row is its own outbox entry (status + next_attempt_at)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    recipient_kind: Mapped[str] = mapped_column(String(8))
    consumer_id: Mapped[int | None] = mapped_column(ForeignKey("consumers.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    mobile: Mapped[str | None] = mapped_column(String(16))
    device_token_id: Mapped[int | None] = mapped_column(ForeignKey("device_tokens.id"))
    channels: Mapped[str] = mapped_column(String(64))  # the plan, in order: "push,sms"
    channel: Mapped[str | None] = mapped_column(String(16))  # the channel that carried it
    message_type: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Secret parameters (an OTP), sealed with the app secret; shown as ****** in `body`.
    sealed_params: Mapped[dict[str, str] | None] = mapped_column(JSONB)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    sms_segments: Mapped[int] = mapped_column(Integer)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    priority: Mapped[str] = mapped_column(String(8))
    queue: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(200))
    provider_status: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)  # last error, or why suppressed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)

    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint(f"recipient_kind IN {RECIPIENT_KINDS}", name="recipient_kind"),
        CheckConstraint(f"priority IN {PRIORITIES}", name="priority"),
        CheckConstraint("(consumer_id IS NULL) <> (user_id IS NULL)", name="one_recipient"),
        Index("ix_notifications_due", "next_attempt_at", postgresql_where=text("status = 'queued'")),
        Index("ix_notifications_provider_id", "provider", "provider_id"),
        Index("ix_notifications_created_at", "created_at"),
    )


class DeviceToken(db.Model):  # type: ignore[name-defined,misc]
    """A consumer app's FCM registration token; retired when FCM says it is no longer valid."""

    __tablename__ = "device_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"), index=True)
    token: Mapped[str] = mapped_column(String(512), unique=True)
    platform: Mapped[str] = mapped_column(String(16), default="android")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_reason: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (CheckConstraint("platform IN ('android', 'ios', 'web')", name="platform"),)


class NotificationOptOut(db.Model):  # type: ignore[name-defined,misc]
    """A consumer who asked for no informational messages (mandatory ones still go)."""

    __tablename__ = "notification_opt_outs"

    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(32), default="ccc")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)


OTP_STATUSES = ("active", "used", "exhausted", "superseded")


class StaffOtp(db.Model):  # type: ignore[name-defined,misc]
    """A one-time password for one staff member, one purpose and one object; only its HMAC is kept."""

    __tablename__ = "staff_otps"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(128))
    code_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="active")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (
        CheckConstraint(f"status IN {OTP_STATUSES}", name="status"),
        Index("ix_staff_otps_user_created", "user_id", "id"),
    )
