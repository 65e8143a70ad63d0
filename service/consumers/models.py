"""Tables of the consumer app: sign-in codes sent to the registered mobile, and bearer tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

OTP_STATUSES = ("active", "used", "exhausted", "superseded")

_now = func.now()


class ConsumerOtp(db.Model):  # type: ignore[name-defined,misc]
    """A sign-in code for one consumer; only its HMAC is kept (notifications' OTP rules)."""

    __tablename__ = "consumer_otps"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"))
    purpose: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(128))
    code_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="active")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notification_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(f"status IN {OTP_STATUSES}", name="status"),
        Index("ix_consumer_otps_consumer_created", "consumer_id", "id"),
    )


class ConsumerAppToken(db.Model):  # type: ignore[name-defined,misc]
    """A signed-in app session: only the SHA-256 of the bearer token is kept; valid one hour."""

    __tablename__ = "consumer_app_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
