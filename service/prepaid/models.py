"""Prepaid accounts (the cached balance and alert/disconnection state), the append-only ledger,
and the effective-dated history of a consumer's payment mode."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

_now = func.now()
ENTRY_KINDS = (
    "opening_balance",  # on migration from postpaid: billing's deposit minus arrears
    "recharge",  # a payment confirmed by the gateway or billing
    "daily_charge",  # a day's consumption at the tariff (estimated or actual)
    "true_up",  # a charged day re-priced once its data changed (estimate -> actual)
    "adjustment",  # staff or billing correction
    "reversal",  # cancels one earlier entry (a bounced payment, a wrong adjustment)
    "closing_balance",  # on migration back to postpaid: the balance handed to billing
)
MODES = ("prepaid", "postpaid")


class PrepaidAccount(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "prepaid_accounts"

    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"), primary_key=True)
    # Cached: always the sum of the consumer's ledger entries (checked by `ledger.verify`).
    balance_inr: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0), server_default="0")
    entries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    is_open: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    prepaid_from: Mapped[date] = mapped_column(Date)
    # Relay opened by the prepaid process for a negative balance (a top-up reconnects it).
    disconnected_for_balance: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    disconnect_due_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    emergency_credit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    low_alert_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    zero_alert_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The lowest `low_balance_days` level told in the current fall (None: above every level).
    low_alert_days: Mapped[int | None] = mapped_column(SmallInteger)
    # The automatic disconnection under way (held or commanded), until it finishes or is cancelled.
    disconnection_id: Mapped[int | None] = mapped_column(ForeignKey("prepaid_disconnections.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)


class LedgerEntry(db.Model):  # type: ignore[name-defined,misc]
    """Append-only (a trigger refuses UPDATE and DELETE); a correction is a new entry."""

    __tablename__ = "prepaid_ledger"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # Idempotency: the payment's transaction id, "daily:<consumer>:<day>", an adjustment's ref.
    source_id: Mapped[str] = mapped_column(String(120))
    amount_inr: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # credit +, debit -
    balance_after_inr: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    business_day: Mapped[date] = mapped_column(Date)
    kwh: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    estimated: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    tariff_version: Mapped[str | None] = mapped_column(String(64))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("prepaid_ledger.id"), unique=True)
    actor: Mapped[str] = mapped_column(String(120))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (
        UniqueConstraint("kind", "source_id", name="uq_prepaid_ledger_source"),
        CheckConstraint(f"kind IN {ENTRY_KINDS}", name="entry_kind"),
        Index("ix_prepaid_ledger_consumer", "consumer_id", "id"),
        Index("ix_prepaid_ledger_day", "business_day", "kind"),
    )


class PaymentMode(db.Model):  # type: ignore[name-defined,misc]
    """A consumer's payment mode from a local day on (effective-dated; the latest row is open)."""

    __tablename__ = "prepaid_modes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"))
    mode: Mapped[str] = mapped_column(String(8))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)  # exclusive; None: still in force
    source_id: Mapped[str] = mapped_column(String(120), unique=True)
    balance_inr: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # opening or closing balance
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (
        CheckConstraint(f"mode IN {MODES}", name="mode"),
        Index("ix_prepaid_modes_consumer", "consumer_id", "effective_from"),
    )


DISCONNECTION_STATES = ("held", "commanded", "disconnected", "cancelled", "failed")


class AutoDisconnection(db.Model):  # type: ignore[name-defined,misc]
    """One automatic disconnection for a balance below the floor: held until the safety window,
    commanded, then disconnected (the HES confirmed), failed, or cancelled by a recharge."""

    __tablename__ = "prepaid_disconnections"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"))
    division_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    command_id: Mapped[str] = mapped_column(String(64), unique=True)
    command_pk: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    balance_inr: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # when found due
    floor_inr: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # -(negative limit + emergency credit)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # held until
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(200), default="", server_default="")

    __table_args__ = (
        CheckConstraint(f"state IN {DISCONNECTION_STATES}", name="state"),
        Index("ix_prepaid_disconnections_due", "due_at"),
        Index("ix_prepaid_disconnections_consumer", "consumer_id", "id"),
    )
