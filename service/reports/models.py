"""Report runs kept for download (who ran what, with which parameters) and their schedules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

_now = func.now()
FREQUENCIES = ("daily", "monthly")
RUN_STATUSES = ("queued", "done", "failed")
TRIGGERS = ("manual", "daily", "monthly")


class ReportSchedule(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "report_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    frequency: Mapped[str] = mapped_column(String(8))
    # The runs see what this org unit sees (the creator's scope at creation, or narrower).
    org_unit_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)
    last_run_for: Mapped[date | None] = mapped_column(Date)  # the day or month last produced
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())

    __table_args__ = (CheckConstraint(f"frequency IN {FREQUENCIES}", name="frequency"),)


class ReportRun(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "report_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    trigger: Mapped[str] = mapped_column(String(8))
    schedule_id: Mapped[int | None] = mapped_column(Integer)
    org_unit_id: Mapped[int | None] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)
    status: Mapped[str] = mapped_column(String(8), default="queued")
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    row_count: Mapped[int | None] = mapped_column(Integer)
    csv_gzip: Mapped[bytes | None] = mapped_column(LargeBinary)  # the result, kept for download
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(f"status IN {RUN_STATUSES}", name="status"),
        CheckConstraint(f"trigger IN {TRIGGERS}", name="trigger"),
        Index("ix_report_runs_org", "org_unit_id", "requested_at"),
        Index("uq_report_runs_schedule_for", "schedule_id", "params", unique=True),
    )
