"""ATR cases: one open case per consumer, the evidence findings add to it, the actions taken."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

STATUSES = ("open", "awaiting_replacement", "closed")
OUTCOMES = ("theft_confirmed", "meter_faulty", "no_issue")
SOURCES = ("vee", "analytics")


class AtrCase(db.Model):  # type: ignore[name-defined,misc]
    """A consumer under suspicion until a field officer records the action taken.

    At most one case per consumer is not closed (a partial unique index): a new finding on a
    consumer with an open case adds evidence to it."""

    __tablename__ = "atr_cases"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"))
    meter_id: Mapped[int | None] = mapped_column(Integer)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    status: Mapped[str] = mapped_column(String(24))
    first_rule_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float, server_default="0")
    instance_id: Mapped[int | None] = mapped_column(BigInteger)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(20))
    assessment_inr: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    remarks: Mapped[str | None] = mapped_column(Text)
    closed_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="atr_case_status"),
        CheckConstraint(f"outcome IS NULL OR outcome IN {OUTCOMES}", name="atr_case_outcome"),
        CheckConstraint("assessment_inr IS NULL OR assessment_inr >= 0", name="atr_case_assessment"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="atr_case_closed"),
        Index(
            "uq_atr_cases_open_consumer",
            "consumer_id",
            unique=True,
            postgresql_where=text("status <> 'closed'"),
        ),
        Index("ix_atr_cases_org_unit", "org_unit_id", "status"),
        Index("ix_atr_cases_opened", "opened_at"),
    )


class AtrEvidence(db.Model):  # type: ignore[name-defined,misc]
    """One rule's finding on the case's consumer for one local day (idempotent by that identity)."""

    __tablename__ = "atr_evidence"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("atr_cases.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(12))
    day: Mapped[date] = mapped_column(Date)
    meter_id: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float, server_default="0")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("source IN ('vee', 'analytics')", name="atr_evidence_source"),
        Index("uq_atr_evidence_identity", "case_id", "rule_id", "day", unique=True),
        Index("ix_atr_evidence_rule", "rule_id", "day"),
    )


class AtrAction(db.Model):  # type: ignore[name-defined,misc]
    """What happened to a case: opened, escalated, inspected, the action taken."""

    __tablename__ = "atr_actions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("atr_cases.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")

    __table_args__ = (Index("ix_atr_actions_case", "case_id", "at"),)
