"""A meter asset (linked to its master-data meter, never duplicating it) and its status history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from service.assets.lifecycle import STATUSES
from service.extensions import db


class MeterAsset(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "meter_assets"

    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(24))
    location: Mapped[str | None] = mapped_column(String(80))  # store code or site
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint(f"status IN {STATUSES}", name="asset_status"),)


class MeterAssetStatus(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "meter_asset_statuses"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    meter_id: Mapped[int] = mapped_column(Integer, ForeignKey("meters.id"), index=True)
    status: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")
