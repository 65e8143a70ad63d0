"""Outages: what the correlation rules concluded from stored power events, and their meters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

LEVELS = ("feeder", "dt", "meter")
CAUSES = ("inferred", "planned", "scada")

_now = func.now()


class Outage(db.Model):  # type: ignore[name-defined,misc]
    """One outage of a feeder, a DT or a single meter (a service issue).

    Identity (rule, level, subject, started_at): the batch pass rebuilds the same rows.
    `ended_at` NULL while it lasts; `duration_s` set when it ends.
    """

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(40))  # feeder code, DT code or meter id
    cause: Mapped[str] = mapped_column(String(10), default="inferred")
    feeder_code: Mapped[str | None] = mapped_column(String(32))
    dt_code: Mapped[str | None] = mapped_column(String(32))
    meter_id: Mapped[int | None] = mapped_column(Integer)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_s: Mapped[int | None] = mapped_column(Integer)
    consumers_affected: Mapped[int] = mapped_column(Integer)
    meters_reporting: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)

    __table_args__ = (
        CheckConstraint(f"level IN {LEVELS}", name="outage_level"),
        CheckConstraint(f"cause IN {CAUSES}", name="outage_cause"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="outage_period"),
        Index("uq_outages_identity", "rule_id", "level", "subject", "started_at", unique=True),
        Index("ix_outages_started", "started_at"),
    )


class OutageMeter(db.Model):  # type: ignore[name-defined,misc]
    """The events that support an outage: each member meter's power-off and power-on."""

    __tablename__ = "outage_meters"

    outage_id: Mapped[int] = mapped_column(ForeignKey("outages.id", ondelete="CASCADE"), primary_key=True)
    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    off_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    on_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
