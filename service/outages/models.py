"""Outages: what the correlation rules concluded from stored power events, and their meters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func, text
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


PLANNED_STATUSES = ("scheduled", "cancelled")


class PlannedOutage(db.Model):  # type: ignore[name-defined,misc]
    """A shutdown announced ahead: recorded by staff or received from SCADA/OMS.

    `revision` counts the changes of its times (an extension is one); each revision's notice
    goes to the consumers on the feeder/DT as the network stands on the outage's first day.
    (source, external_id) is the sender's own id, so a re-sent message is not a second outage.
    """

    __tablename__ = "planned_outages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # "staff" or the sending system's name
    external_id: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(32))  # feeder or DT code
    feeder_code: Mapped[str | None] = mapped_column(String(32))
    dt_code: Mapped[str | None] = mapped_column(String(32))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="scheduled")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    consumers_affected: Mapped[int] = mapped_column(Integer, default=0)
    instance_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("level IN ('feeder', 'dt')", name="planned_outage_level"),
        CheckConstraint(f"status IN {PLANNED_STATUSES}", name="planned_outage_status"),
        CheckConstraint("ends_at > starts_at", name="planned_outage_period"),
        Index(
            "uq_planned_outages_external",
            "source",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index("ix_planned_outages_period", "starts_at", "ends_at"),
    )
