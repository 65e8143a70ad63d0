"""outages inferred from meter power events and their supporting meters (issue 14)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

LEVELS = ("feeder", "dt", "meter")
CAUSES = ("inferred", "planned", "scada")


def upgrade() -> None:
    op.create_table(
        "outages",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("rule_id", sa.String(40), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("cause", sa.String(10), nullable=False),
        sa.Column("feeder_code", sa.String(32)),
        sa.Column("dt_code", sa.String(32)),
        sa.Column("meter_id", sa.Integer()),
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_units.id")),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("duration_s", sa.Integer()),
        sa.Column("consumers_affected", sa.Integer(), nullable=False),
        sa.Column("meters_reporting", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(f"level IN {LEVELS}", name="outage_level"),
        sa.CheckConstraint(f"cause IN {CAUSES}", name="outage_cause"),
        sa.CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="outage_period"),
    )
    op.create_index("ix_outages_org_unit_id", "outages", ["org_unit_id"])
    op.create_index("ix_outages_started", "outages", ["started_at"])
    op.create_index(
        "uq_outages_identity", "outages", ["rule_id", "level", "subject", "started_at"], unique=True
    )
    op.create_table(
        "outage_meters",
        sa.Column(
            "outage_id", sa.BigInteger(), sa.ForeignKey("outages.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("meter_id", sa.Integer(), primary_key=True),
        sa.Column("off_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("on_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("outage_meters")
    op.drop_table("outages")
