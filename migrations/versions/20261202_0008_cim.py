"""CIM conformance: usage-point id, reading qualities, unmapped event index (issue 9)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("consumers", sa.Column("usage_point_id", sa.String(length=64), nullable=True))
    op.create_index(
        "uq_consumers_usage_point_id",
        "consumers",
        ["usage_point_id"],
        unique=True,
        postgresql_where=sa.text("usage_point_id IS NOT NULL"),
    )
    op.create_table(
        "reading_qualities",
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("quality_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("comment", sa.String(length=200), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("meter_id", "channel", "at", "code", name=op.f("pk_reading_qualities")),
    )
    op.create_index(
        "ix_meter_events_unmapped", "meter_events", ["code"], postgresql_where=sa.text("code < 0")
    )


def downgrade() -> None:
    op.drop_table("reading_qualities")
    op.drop_index("ix_meter_events_unmapped", table_name="meter_events")
    op.drop_index("uq_consumers_usage_point_id", table_name="consumers")
    op.drop_column("consumers", "usage_point_id")
