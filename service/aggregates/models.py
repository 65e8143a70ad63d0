"""Aggregate tables every report reads (never raw intervals): per meter per day and hour, per
feeder/DT per day, per org unit per day and month, scalar reads with their consumption.

Like the measurement tables they have no foreign keys and lead with the subject id, so they
can be distributed by it later. Written only by `service.aggregates.refresh` (set-based SQL).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

_now = func.now()
INPUT_SOURCES = ("scada", "meter")


class MeterDay(db.Model):  # type: ignore[name-defined,misc]
    """One meter's local (IST) day from its intervals; energy of billable qualities only."""

    __tablename__ = "agg_meter_day"

    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(Integer)
    meter_class: Mapped[str] = mapped_column(String(16))
    kwh_import: Mapped[float | None] = mapped_column(Float)
    kwh_export: Mapped[float | None] = mapped_column(Float)
    kvah_import: Mapped[float | None] = mapped_column(Float)
    kvah_export: Mapped[float | None] = mapped_column(Float)
    kvarh_lag: Mapped[float | None] = mapped_column(Float)
    kvarh_lead: Mapped[float | None] = mapped_column(Float)
    # kWh per TOD zone (element z-1 is zone z), zones as in rules.determinants.
    kwh_by_zone: Mapped[list[float]] = mapped_column(ARRAY(Float))
    kvah_by_zone: Mapped[list[float]] = mapped_column(ARRAY(Float))
    md_kw: Mapped[float | None] = mapped_column(Float)
    md_kw_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    md_kva: Mapped[float | None] = mapped_column(Float)
    md_kva_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pf: Mapped[float | None] = mapped_column(Float)
    interval_minutes: Mapped[int] = mapped_column(SmallInteger)
    intervals: Mapped[int] = mapped_column(SmallInteger)
    expected_intervals: Mapped[int] = mapped_column(SmallInteger)
    valid_count: Mapped[int] = mapped_column(SmallInteger)
    estimated_count: Mapped[int] = mapped_column(SmallInteger)
    edited_count: Mapped[int] = mapped_column(SmallInteger)
    failed_count: Mapped[int] = mapped_column(SmallInteger)
    suspect_count: Mapped[int] = mapped_column(SmallInteger)
    raw_count: Mapped[int] = mapped_column(SmallInteger)
    estimated_share: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (
        Index("ix_agg_meter_day_day", "day", "org_unit_id"),
        CheckConstraint("estimated_share BETWEEN 0 AND 1", name="share"),
    )


class SubjectHour(db.Model):  # type: ignore[name-defined,misc]
    """Hourly energy of feeder/DT/HT meters and of SCADA/MDAS feeder and DT energy."""

    __tablename__ = "agg_hour"

    subject_kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # meter | feeder | dtr
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    kwh: Mapped[float | None] = mapped_column(Float)
    kvah: Mapped[float | None] = mapped_column(Float)
    kwh_export: Mapped[float | None] = mapped_column(Float)
    max_kw: Mapped[float | None] = mapped_column(Float)
    intervals: Mapped[int] = mapped_column(SmallInteger)
    estimated_count: Mapped[int] = mapped_column(SmallInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (
        CheckConstraint("subject_kind IN ('meter', 'feeder', 'dtr')", name="subject_kind"),
        Index("ix_agg_hour_time", "hour_end", "subject_kind"),
    )


class NetworkDay(db.Model):  # type: ignore[name-defined,misc]
    """A feeder's or DT's day: input (SCADA/MDAS or its meter) against energy sold on it, with
    the network as it stood at the day's start. NULL input means missing, never zero."""

    __tablename__ = "agg_network_day"

    network_kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # feeder | dtr
    network_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(Integer)
    feeder_id: Mapped[int | None] = mapped_column(Integer)  # a DT's feeder that day
    input_kwh: Mapped[float | None] = mapped_column(Float)
    input_source: Mapped[str | None] = mapped_column(String(8))
    input_intervals: Mapped[int] = mapped_column(SmallInteger, default=0)
    input_expected: Mapped[int] = mapped_column(SmallInteger, default=0)
    input_estimated: Mapped[int] = mapped_column(SmallInteger, default=0)
    peak_kw: Mapped[float | None] = mapped_column(Float)
    peak_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sold_metered_kwh: Mapped[float] = mapped_column(Float, default=0.0)
    sold_scalar_kwh: Mapped[float] = mapped_column(Float, default=0.0)
    # HT/EHV consumers fed straight from a feeder of 33 kV and above: input and sale at once.
    direct_ht_kwh: Mapped[float] = mapped_column(Float, default=0.0)
    metered_consumers: Mapped[int] = mapped_column(Integer, default=0)
    metered_missing: Mapped[int] = mapped_column(Integer, default=0)
    scalar_consumers: Mapped[int] = mapped_column(Integer, default=0)
    scalar_missing: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (
        CheckConstraint("network_kind IN ('feeder', 'dtr')", name="network_kind"),
        CheckConstraint(f"input_source IS NULL OR input_source IN {INPUT_SOURCES}", name="input_source"),
        Index("ix_agg_network_day_day", "day", "network_kind"),
        Index("ix_agg_network_day_feeder", "feeder_id", "day"),
    )


class _OrgTotals:
    """The sums an org unit's day and month both carry."""

    org_unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meter_class: Mapped[str] = mapped_column(String(16), primary_key=True)
    kwh_import: Mapped[float] = mapped_column(Float)
    kwh_export: Mapped[float] = mapped_column(Float)
    kvah_import: Mapped[float] = mapped_column(Float)
    max_md_kw: Mapped[float | None] = mapped_column(Float)
    intervals: Mapped[int] = mapped_column(Integer)
    expected_intervals: Mapped[int] = mapped_column(Integer)
    estimated_count: Mapped[int] = mapped_column(Integer)
    failed_count: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)


class OrgDay(_OrgTotals, db.Model):  # type: ignore[name-defined,misc]
    """Meter-days summed per org unit (the meter's), meter class and day."""

    __tablename__ = "agg_org_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    meters: Mapped[int] = mapped_column(Integer)
    zero_meters: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_agg_org_day_day", "day"),)


class OrgMonth(_OrgTotals, db.Model):  # type: ignore[name-defined,misc]
    """`agg_org_day` summed per calendar month (month = its first day)."""

    __tablename__ = "agg_org_month"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    meter_days: Mapped[int] = mapped_column(Integer)


class ScalarRead(db.Model):  # type: ignore[name-defined,misc]
    """A monthly scalar read with the consumption since the read before it (x multiplier)."""

    __tablename__ = "agg_scalar_read"

    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    month: Mapped[date] = mapped_column(Date)  # local month of the read
    org_unit_id: Mapped[int] = mapped_column(Integer)
    reading_kwh: Mapped[float | None] = mapped_column(Float)
    previous_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consumption_kwh: Mapped[float | None] = mapped_column(Float)
    reading_status: Mapped[str] = mapped_column(String(24))
    quality: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (Index("ix_agg_scalar_read_month", "month", "org_unit_id"),)
