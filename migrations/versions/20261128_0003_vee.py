"""VEE results, rules, determinants (issue 4)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "vee_failures",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("rule_type", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("data_kind", sa.String(16), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=True),
        sa.Column("ts", TZ, nullable=False),
        sa.Column("ts_end", TZ, nullable=True),
        sa.Column("value_seen", sa.Float(), nullable=True),
        sa.Column("reference_value", sa.Float(), nullable=True),
        sa.Column("details", postgresql.JSONB(), nullable=False),
        sa.Column("parameters", postgresql.JSONB(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_vee_failures_meter", "vee_failures", ["meter_id", "data_kind", "ts"])
    op.create_index("ix_vee_failures_rule", "vee_failures", ["rule_id", "ts"])
    op.create_table(
        "vee_estimates",
        sa.Column("meter_id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("ts", TZ, primary_key=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("method", sa.String(48), nullable=False),
        sa.Column("original_value", sa.Float(), nullable=True),
        sa.Column("original_quality", sa.String(10), nullable=True),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "vee_edits",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("measure", sa.String(10), nullable=False),
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("ts", TZ, nullable=False),
        sa.Column("key", postgresql.JSONB(), nullable=False),
        sa.Column("original_value", sa.Float(), nullable=True),
        sa.Column("original_quality", sa.String(10), nullable=False),
        sa.Column("new_value", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("edited_by", sa.String(128), nullable=False),
        sa.Column("edited_at", TZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_vee_edits_meter", "vee_edits", ["meter_id", "ts"])
    op.create_table(
        "vee_rule_files",
        sa.Column("file", sa.String(120), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("loaded_at", TZ, nullable=True),
        sa.Column("refused_sha256", sa.String(64), nullable=True),
        sa.Column("refused_errors", postgresql.JSONB(), nullable=True),
    )
    op.create_table(
        "billing_determinants",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("consumer_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("computed_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("consumer_id", "period", "revision", name="uq_billing_determinants_rev"),
    )


def downgrade() -> None:
    op.drop_table("billing_determinants")
    op.drop_table("vee_rule_files")
    op.drop_index("ix_vee_edits_meter", table_name="vee_edits")
    op.drop_table("vee_edits")
    op.drop_table("vee_estimates")
    op.drop_index("ix_vee_failures_rule", table_name="vee_failures")
    op.drop_index("ix_vee_failures_meter", table_name="vee_failures")
    op.drop_table("vee_failures")
