"""Tables of HES commands: the HES systems (wire form, limits), each command, every reply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

_now = func.now()
COMMAND_STATES = ("queued", "held", "sent", "acknowledged", "succeeded", "failed", "timed_out", "cancelled")
FINAL_STATES = ("succeeded", "failed", "timed_out", "cancelled")


class HesSystem(db.Model):  # type: ignore[name-defined,misc]
    """A head-end system as master data: how to speak to it and how fast."""

    __tablename__ = "hes_systems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # = meters.hes_code
    name: Mapped[str] = mapped_column(String(200), default="")
    wire_form: Mapped[str] = mapped_column(String(8))  # json | cim
    base_url: Mapped[str] = mapped_column(String(400))
    has_callback: Mapped[bool] = mapped_column(Boolean, default=True)  # False: we poll
    batch_size: Mapped[int] = mapped_column(Integer, default=500)
    rate_per_second: Mapped[float] = mapped_column(Float, default=50.0)
    reply_timeout_seconds: Mapped[int] = mapped_column(Integer, default=300)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    control_types: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # CIM codes that differ
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)

    __table_args__ = (
        CheckConstraint("wire_form IN ('json', 'cim')", name="wire_form"),
        CheckConstraint("batch_size BETWEEN 1 AND 10000", name="batch_size"),
        CheckConstraint("rate_per_second > 0", name="rate"),
        CheckConstraint("reply_timeout_seconds > 0 AND max_attempts BETWEEN 1 AND 10", name="timeouts"),
    )


class HesCommand(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "hes_commands"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    command_id: Mapped[str] = mapped_column(String(64), unique=True)  # ours, sent to the HES
    hes_code: Mapped[str] = mapped_column(String(32))
    meter_id: Mapped[int] = mapped_column(Integer, index=True)
    meter_serial: Mapped[str] = mapped_column(String(40))
    consumer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    org_unit_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="queued")
    reason: Mapped[str | None] = mapped_column(Text)  # failure / hold / cancel reason
    batch_key: Mapped[str | None] = mapped_column(String(64), index=True)  # e.g. "disconnection:12"
    wire_form: Mapped[str | None] = mapped_column(String(8))
    content_type: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[bytes | None] = mapped_column(LargeBinary)  # exactly what was posted
    relay: Mapped[str | None] = mapped_column(String(16))  # connected | disconnected, as reported
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # held until
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(f"state IN {COMMAND_STATES}", name="state"),
        CheckConstraint("action IN ('connect', 'disconnect', 'read', 'relay_status')", name="action"),
        Index("ix_hes_commands_open", "hes_code", "state"),
    )


class HesCommandReply(db.Model):  # type: ignore[name-defined,misc]
    """Every answer about a command, as received (the acknowledgement, callbacks, polls, events)."""

    __tablename__ = "hes_command_replies"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    command_pk: Mapped[int] = mapped_column(ForeignKey("hes_commands.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # ack | reply | relay_event | poll | error
    outcome: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of kind + body: a re-delivery is one row
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (UniqueConstraint("command_pk", "digest", name="uq_hes_command_replies_digest"),)
