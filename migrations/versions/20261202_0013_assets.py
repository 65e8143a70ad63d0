"""meter assets and their status history (issue 12)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

STATUSES = ("in_store", "issued", "installed", "removed", "faulty", "returned_to_vendor", "scrapped")


def upgrade() -> None:
    op.create_table(
        "meter_assets",
        sa.Column("meter_id", sa.Integer(), sa.ForeignKey("meters.id"), primary_key=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("location", sa.String(80)),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(f"status IN {STATUSES}", name="asset_status"),
    )
    op.create_table(
        "meter_asset_statuses",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("meter_id", sa.Integer(), sa.ForeignKey("meters.id"), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_meter_asset_statuses_meter_id", "meter_asset_statuses", ["meter_id"])


def downgrade() -> None:
    op.drop_table("meter_asset_statuses")
    op.drop_table("meter_assets")
