"""Collection data from billing: units and amount billed and amount collected per consumer
per month, the inputs of billing and collection efficiency (AT&C, REFERENCE section 7)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Index, Integer, Numeric, String, func
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

_now = func.now()


class BillingCollection(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "billing_collections"

    consumer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    org_unit_id: Mapped[int] = mapped_column(Integer)
    units_billed_kwh: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    amount_billed_inr: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # Collected against this month's bill; arrears are excluded from collection efficiency.
    amount_collected_inr: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    arrears_collected_inr: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    source: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    batch_id: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (
        CheckConstraint("units_billed_kwh >= 0", name="units_nonneg"),
        CheckConstraint("amount_billed_inr >= 0", name="billed_nonneg"),
        CheckConstraint("amount_collected_inr >= 0", name="collected_nonneg"),
        CheckConstraint("arrears_collected_inr >= 0", name="arrears_nonneg"),
        Index("ix_billing_collections_period", "period", "org_unit_id"),
    )
