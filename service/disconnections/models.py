"""DO (disconnection) and RC (reconnection) lists from billing, their rows, and each division's part."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

_now = func.now()
ORDER_STATES = (
    "rejected",  # the row could not be taken (reason names why)
    "pending",  # waiting for verification / approval / OTP
    "dropped",  # the officer dropped it (reason)
    "cancelled",  # a payment arrived before the command went out
    "commanded",  # a HES command exists (held or sent)
    "done",
    "failed",
)


class CommandList(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "disconnection_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # disconnect | reconnect
    list_ref: Mapped[str] = mapped_column(String(64))  # billing's id of the list
    source: Mapped[str] = mapped_column(String(64))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (
        UniqueConstraint("kind", "list_ref", name="uq_disconnection_lists_ref"),
        CheckConstraint("kind IN ('disconnect', 'reconnect')", name="kind"),
    )


class ListPart(db.Model):  # type: ignore[name-defined,misc]
    """One division's share of a list: its own process instance, verification, approval and OTP."""

    __tablename__ = "disconnection_parts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("disconnection_lists.id", ondelete="CASCADE"), index=True)
    division_id: Mapped[int] = mapped_column(Integer, index=True)
    part_key: Mapped[str] = mapped_column(String(120), unique=True)  # the process business key
    instance_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default="verifying")
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_by: Mapped[str | None] = mapped_column(String(64))  # the authority whose OTP matched
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "state IN ('verifying', 'approved', 'confirmed', 'commanding', 'finished')", name="state"
        ),
    )


class ListOrder(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "disconnection_orders"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("disconnection_lists.id", ondelete="CASCADE"))
    part_id: Mapped[int | None] = mapped_column(ForeignKey("disconnection_parts.id"), index=True)
    row_no: Mapped[int] = mapped_column(Integer)
    ivrs_number: Mapped[str] = mapped_column(String(32))
    consumer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    org_unit_id: Mapped[int | None] = mapped_column(Integer)
    division_id: Mapped[int | None] = mapped_column(Integer)
    amount_due_inr: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    state: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(Text)
    command_pk: Mapped[int | None] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("list_id", "row_no", name="uq_disconnection_orders_row"),
        CheckConstraint(f"state IN {ORDER_STATES}", name="state"),
        Index("ix_disconnection_orders_list", "list_id", "state"),
    )
