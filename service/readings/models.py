"""The measurement store: month-partitioned reading tables, ingest batches, revisions, quarantine.

Measurement rows have no foreign keys and `meter_id` (or `network_id`) leads every key, so the
tables can become Citus distributed tables later (DESIGN "Storage"). They are written with COPY
and `INSERT ... SELECT ... ON CONFLICT` (service.readings.ingest), never through the ORM; the
classes below exist for reads, the migration and schema checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

# raw until VEE runs; VEE (service.vee) moves values to the others.
QUALITIES = ("raw", "valid", "estimated", "edited", "failed", "suspect")
# What the validated view shows.
VALIDATED_QUALITIES = ("valid", "estimated", "edited")
BATCH_STATUSES = ("stored", "validated")
MEASURES = ("interval", "register", "event", "network")
NETWORK_KINDS = ("feeder", "dtr")
SUBJECT_KINDS = ("meter", "feeder", "dtr")

_flagged = text("quality IN ('failed', 'suspect')")


class IngestBatch(db.Model):  # type: ignore[name-defined,misc]
    """One delivery (request, file, replay) through the ingest path, with what became of it."""

    __tablename__ = "ingest_batches"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status: Mapped[str] = mapped_column(String(16), default="stored")
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    rejects: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # Meters and time span the batch stored: VEE reads the batch through the primary keys.
    meter_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    first_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The sender's org-unit scope (a scoped API key); a quarantine replay applies it again.
    org_unit_id: Mapped[int | None] = mapped_column(Integer)
    validated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(f"status IN {BATCH_STATUSES}", name="status"),
        Index("ix_ingest_batches_pending", "received_at", postgresql_where=text("status = 'stored'")),
        Index("ix_ingest_batches_message", "source", "message_id"),
    )


class IntervalReading(db.Model):  # type: ignore[name-defined,misc]
    """Block-load values; the timestamp is the interval's end (UTC)."""

    __tablename__ = "interval_readings"

    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    interval_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    interval_minutes: Mapped[int] = mapped_column(SmallInteger)
    quality: Mapped[str] = mapped_column(String(10), default="raw")
    source: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint(f"quality IN {QUALITIES}", name="quality"),
        # Small: only failed/suspect values, so finding them costs nothing at ingest.
        Index("ix_interval_readings_flagged", "meter_id", "interval_end", postgresql_where=_flagged),
        {"postgresql_partition_by": "RANGE (interval_end)"},
    )


VALUE_PRESENT = "value IS NOT NULL OR (kind = 'scalar' AND COALESCE(reading_status, 'normal') <> 'normal')"


class RegisterRead(db.Model):  # type: ignore[name-defined,misc]
    """Cumulative registers: daily, billing (TOD zone 0 = total, 1..8), monthly scalar, instant."""

    __tablename__ = "register_reads"

    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    tod_zone: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    # NULL only for a status-only scalar read (door locked ...): the status is the reading.
    value: Mapped[float | None] = mapped_column(Float)
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # MD's time
    reading_status: Mapped[str | None] = mapped_column(String(24))  # scalar reads
    quality: Mapped[str] = mapped_column(String(10), default="raw")
    source: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint(f"quality IN {QUALITIES}", name="quality"),
        CheckConstraint("kind IN ('daily', 'billing', 'scalar', 'instant')", name="kind"),
        CheckConstraint("tod_zone BETWEEN 0 AND 8", name="tod_zone"),
        CheckConstraint(VALUE_PRESENT, name="value_present"),
        Index("ix_register_reads_flagged", "meter_id", "read_at", postgresql_where=_flagged),
        {"postgresql_partition_by": "RANGE (read_at)"},
    )


class MeterEvent(db.Model):  # type: ignore[name-defined,misc]
    """IS 15959 events; `restored_at` is NULL while the condition lasts."""

    __tablename__ = "meter_events"

    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    restored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    source: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        # Correlation looks across meters by time (last-gasp bursts on one DT).
        Index("ix_meter_events_occurred", "occurred_at", "code"),
        # Unmapped CIM event types (negative codes) are listed and reclassified without a scan.
        Index("ix_meter_events_unmapped", "code", postgresql_where=text("code < 0")),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )


class NetworkEnergy(db.Model):  # type: ignore[name-defined,misc]
    """Feeder and DT energy from SCADA / SHMS / MDAS, by feeder or DTR id."""

    __tablename__ = "network_energy"

    network_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    interval_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    interval_minutes: Mapped[int] = mapped_column(SmallInteger)
    quality: Mapped[str] = mapped_column(String(10), default="raw")
    source: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint(f"quality IN {QUALITIES}", name="quality"),
        CheckConstraint(f"network_kind IN {NETWORK_KINDS}", name="network_kind"),
        {"postgresql_partition_by": "RANGE (interval_end)"},
    )


class ReadingRevision(db.Model):  # type: ignore[name-defined,misc]
    """A stored value replaced by a different one for the same key: the old one, kept.

    `subject_id` is the meter (or feeder/DTR for network energy); `key` holds the other key
    parts (kind, tod_zone, code, network_kind); `old_extra`/`new_extra` the non-value fields.
    """

    __tablename__ = "reading_revisions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    measure: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    key: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    old_value: Mapped[float | None] = mapped_column(Float)
    old_quality: Mapped[str | None] = mapped_column(String(10))
    old_extra: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    old_source: Mapped[str] = mapped_column(String(64))
    old_batch_id: Mapped[int] = mapped_column(BigInteger)
    new_value: Mapped[float | None] = mapped_column(Float)
    new_extra: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    new_source: Mapped[str] = mapped_column(String(64))
    new_batch_id: Mapped[int] = mapped_column(BigInteger)
    # False when the stored value was kept: an analyst's edit stands over a re-delivered value.
    applied: Mapped[bool] = mapped_column(Boolean, server_default=true())
    replaced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(f"measure IN {MEASURES}", name="measure"),
        Index("ix_reading_revisions_subject", "subject_id", "measure", "at"),
    )


class QuarantinedReadings(db.Model):  # type: ignore[name-defined,misc]
    """Accepted rows for a meter (or feeder/DTR) not in master data, replayed when it arrives.

    One row per (batch, subject, measure); `payload` holds the rows column-wise as JSON.
    """

    __tablename__ = "quarantined_readings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(8))
    subject_code: Mapped[str] = mapped_column(String(64))
    measure: Mapped[str] = mapped_column(String(10))
    row_count: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(200))
    batch_id: Mapped[int] = mapped_column(BigInteger)
    quarantined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(f"subject_kind IN {SUBJECT_KINDS}", name="subject_kind"),
        CheckConstraint(f"measure IN {MEASURES}", name="measure"),
        Index("ix_quarantined_readings_subject", "subject_kind", "subject_code"),
    )


class ReadingQuality(db.Model):  # type: ignore[name-defined,misc]
    """A CIM ReadingQuality sent with a value (interval or register), with its own timestamp."""

    __tablename__ = "reading_qualities"

    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)  # ReadingQualityType ref
    quality_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(String(200))
    batch_id: Mapped[int] = mapped_column(BigInteger)
