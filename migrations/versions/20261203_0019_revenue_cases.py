"""revenue protection: ATR cases (one open per consumer), their evidence and actions (issue 15)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

STATUSES = ("open", "awaiting_replacement", "closed")
OUTCOMES = ("theft_confirmed", "meter_faulty", "no_issue")


def upgrade() -> None:
    op.create_table(
        "atr_cases",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("consumer_id", sa.Integer(), sa.ForeignKey("consumers.id"), nullable=False),
        sa.Column("meter_id", sa.Integer()),
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_units.id"), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("first_rule_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False, server_default="0"),
        sa.Column("instance_id", sa.BigInteger()),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(20)),
        sa.Column("assessment_inr", sa.Numeric(14, 2)),
        sa.Column("remarks", sa.Text()),
        sa.Column("closed_by", sa.String(64)),
        sa.CheckConstraint(f"status IN {STATUSES}", name="atr_case_status"),
        sa.CheckConstraint(f"outcome IS NULL OR outcome IN {OUTCOMES}", name="atr_case_outcome"),
        sa.CheckConstraint("assessment_inr IS NULL OR assessment_inr >= 0", name="atr_case_assessment"),
        sa.CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="atr_case_closed"),
    )
    op.create_index(
        "uq_atr_cases_open_consumer",
        "atr_cases",
        ["consumer_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.create_index("ix_atr_cases_org_unit", "atr_cases", ["org_unit_id", "status"])
    op.create_index("ix_atr_cases_opened", "atr_cases", ["opened_at"])
    op.create_table(
        "atr_evidence",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "case_id", sa.BigInteger(), sa.ForeignKey("atr_cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("meter_id", sa.Integer()),
        sa.Column("score", sa.Float(), nullable=False, server_default="0"),
        sa.Column("detail", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("found_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("source IN ('vee', 'analytics')", name="atr_evidence_source"),
    )
    op.create_index("uq_atr_evidence_identity", "atr_evidence", ["case_id", "rule_id", "day"], unique=True)
    op.create_index("ix_atr_evidence_rule", "atr_evidence", ["rule_id", "day"])
    op.create_table(
        "atr_actions",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "case_id", sa.BigInteger(), sa.ForeignKey("atr_cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("detail", postgresql.JSONB(), nullable=False, server_default="{}"),
    )
    op.create_index("ix_atr_actions_case", "atr_actions", ["case_id", "at"])


def downgrade() -> None:
    op.drop_table("atr_actions")
    op.drop_table("atr_evidence")
    op.drop_table("atr_cases")
