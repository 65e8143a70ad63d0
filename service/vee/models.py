"""VEE results: failures per rule, estimates with their method, edits, rule files in force,
billing determinants sent. Keyed by meter like the measurement tables (no foreign keys)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

_now = func.now()


class VeeFailure(db.Model):  # type: ignore[name-defined,misc]
    """One finding of one rule: a reading, a run of readings, a gap, or a meter-day."""

    __tablename__ = "vee_failures"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    rule_type: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    action: Mapped[str] = mapped_column(String(16))
    data_kind: Mapped[str] = mapped_column(String(16))
    meter_id: Mapped[int] = mapped_column(Integer)
    org_unit_id: Mapped[int | None] = mapped_column(Integer)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ts_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    value_seen: Mapped[float | None] = mapped_column(Float)
    reference_value: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    batch_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (
        Index("ix_vee_failures_meter", "meter_id", "data_kind", "ts"),
        Index("ix_vee_failures_rule", "rule_id", "ts"),
    )


class VeeEstimate(db.Model):  # type: ignore[name-defined,misc]
    """How an estimated interval was made; deleted when real data replaces it."""

    __tablename__ = "vee_estimates"

    meter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(48))
    original_value: Mapped[float | None] = mapped_column(Float)
    original_quality: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)


class VeeEdit(db.Model):  # type: ignore[name-defined,misc]
    """A person's correction of a reading: the original stays here."""

    __tablename__ = "vee_edits"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    measure: Mapped[str] = mapped_column(String(10))  # interval | register
    meter_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    key: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    original_value: Mapped[float | None] = mapped_column(Float)
    original_quality: Mapped[str] = mapped_column(String(10))
    new_value: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    edited_by: Mapped[str] = mapped_column(String(128))
    edited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (Index("ix_vee_edits_meter", "meter_id", "ts"),)


class RuleFile(db.Model):  # type: ignore[name-defined,misc]
    """The version of each rule file in force (shared by every process) and the last refused."""

    __tablename__ = "vee_rule_files"

    file: Mapped[str] = mapped_column(String(120), primary_key=True)
    sha256: Mapped[str | None] = mapped_column(String(64))
    content: Mapped[str | None] = mapped_column(Text)
    loaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refused_sha256: Mapped[str | None] = mapped_column(String(64))
    refused_errors: Mapped[list[str] | None] = mapped_column(JSONB)


class BillingDeterminants(db.Model):  # type: ignore[name-defined,misc]
    """Determinants of a consumer and period; a new revision only when the content changes."""

    __tablename__ = "billing_determinants"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    revision: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now)

    __table_args__ = (
        UniqueConstraint("consumer_id", "period", "revision", name="uq_billing_determinants_rev"),
    )
