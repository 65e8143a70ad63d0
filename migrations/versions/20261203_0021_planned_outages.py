"""planned outages recorded by staff or received from SCADA/OMS (issue 14)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planned_outages",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(64)),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(32), nullable=False),
        sa.Column("feeder_code", sa.String(32)),
        sa.Column("dt_code", sa.String(32)),
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_units.id"), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("consumers_affected", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.BigInteger()),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("level IN ('feeder', 'dt')", name="planned_outage_level"),
        sa.CheckConstraint("status IN ('scheduled', 'cancelled')", name="planned_outage_status"),
        sa.CheckConstraint("ends_at > starts_at", name="planned_outage_period"),
    )
    op.create_index("ix_planned_outages_org_unit_id", "planned_outages", ["org_unit_id"])
    op.create_index("ix_planned_outages_period", "planned_outages", ["starts_at", "ends_at"])
    op.create_index(
        "uq_planned_outages_external",
        "planned_outages",
        ["source", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("planned_outages")
