"""A meter asset (linked to its master-data meter, never duplicating it) and its status history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.assets.lifecycle import STATUSES
from service.extensions import db

# Whole current, LT current-transformer operated, LT, HT (CT/PT) metering.
ASSET_GROUPS = ("WC", "LTCT", "LT", "HT")


class MeterAsset(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "meter_assets"

    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(24))
    location: Mapped[str | None] = mapped_column(String(80))  # store code or site
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # What master data does not hold (make, model, firmware, rating, warranty end stay there).
    asset_group: Mapped[str | None] = mapped_column(String(8))
    po_line_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_order_lines.id"), index=True)
    batch: Mapped[str | None] = mapped_column(String(40))  # the vendor's manufacturing lot

    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="asset_status"),
        CheckConstraint(f"asset_group IN {ASSET_GROUPS}", name="asset_group"),
    )


class PurchaseOrder(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "purchase_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    po_number: Mapped[str] = mapped_column(String(40), unique=True)
    vendor: Mapped[str] = mapped_column(String(120))
    po_date: Mapped[date] = mapped_column(Date)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PurchaseOrderLine(db.Model):  # type: ignore[name-defined,misc]
    """A line of a PO; `delivered` counts the assets received against it (never above `quantity`)."""

    __tablename__ = "purchase_order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    po_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    make: Mapped[str] = mapped_column(String(80))
    model: Mapped[str | None] = mapped_column(String(80))
    meter_class: Mapped[str] = mapped_column(String(16))
    asset_group: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    warranty_months: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("po_id", "line_no", name="uq_purchase_order_lines_no"),
        CheckConstraint("quantity > 0 AND delivered BETWEEN 0 AND quantity", name="po_line_quantities"),
        CheckConstraint(f"asset_group IN {ASSET_GROUPS}", name="po_line_group"),
    )


class MeterAssetStatus(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "meter_asset_statuses"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    meter_id: Mapped[int] = mapped_column(Integer, ForeignKey("meters.id"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")


REPLACEMENT_KINDS = ("scalar", "smart")
REPLACEMENT_STATES = ("done", "validating", "commissioning", "awaiting_billing", "rejected", "failed")


class MeterReplacement(db.Model):  # type: ignore[name-defined,misc]
    """One meter taken off a consumer and another put on at the same instant, with both reads.

    `done` rows have switched the installation; a smart replacement waits for billing first.
    """

    __tablename__ = "meter_replacements"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(64))  # the reporting system or field officer
    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"), index=True)
    old_meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"))
    new_meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), index=True)
    replaced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    final_kwh: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    initial_kwh: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    photo_ref: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)  # billing's rejection, a failed check
    instance_id: Mapped[int | None] = mapped_column(BigInteger)  # the smart replacement's process
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(f"kind IN {REPLACEMENT_KINDS}", name="replacement_kind"),
        CheckConstraint(f"state IN {REPLACEMENT_STATES}", name="replacement_state"),
        CheckConstraint("old_meter_id <> new_meter_id", name="two_meters"),
        # The same old meter is taken off once at an instant: a re-sent report finds this row. A
        # rejected (or failed) one does not count, so the corrected report can be sent again.
        Index(
            "uq_meter_replacements_old_at_live",
            "old_meter_id",
            "replaced_at",
            unique=True,
            postgresql_where=text("state NOT IN ('rejected', 'failed')"),
        ),  # fmt: skip
        Index("ix_meter_replacements_old", "old_meter_id"),
    )
