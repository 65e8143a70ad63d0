"""net metering master data: solar plants and net-metering agreements (issue 17)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "solar_plants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.UniqueConstraint("code", name=op.f("uq_solar_plants_code")),
        sa.Column("consumer_id", sa.Integer(), sa.ForeignKey("consumers.id"), nullable=False),
        sa.Column("capacity_kwp", sa.Numeric(8, 3), nullable=False),
        sa.Column("commissioning_date", sa.Date(), nullable=False),
        sa.Column("inverter_make", sa.String(80), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("capacity_kwp > 0", name="kwp_positive"),
    )
    op.create_index("ix_solar_plants_consumer_id", "solar_plants", ["consumer_id"])
    op.create_table(
        "net_metering_agreements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agreement_number", sa.String(32), nullable=False),
        sa.UniqueConstraint("agreement_number", name=op.f("uq_net_metering_agreements_agreement_number")),
        sa.Column("consumer_id", sa.Integer(), sa.ForeignKey("consumers.id"), nullable=False),
        sa.Column("plant_id", sa.Integer(), sa.ForeignKey("solar_plants.id"), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date()),
        sa.Column("settlement_rule", sa.String(16), nullable=False),
        sa.Column("settlement_start_month", sa.Integer(), nullable=False),
        sa.Column("surplus_rate", sa.Numeric(8, 4), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("settlement_rule IN ('net_banking', 'gross')", name="settlement_rule"),
        sa.CheckConstraint("settlement_start_month BETWEEN 1 AND 12", name="settlement_month"),
        sa.CheckConstraint("surplus_rate >= 0", name="surplus_rate_nonneg"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period"),
    )
    op.create_index("ix_net_metering_agreements_consumer_id", "net_metering_agreements", ["consumer_id"])
    op.create_index("ix_net_metering_agreements_plant_id", "net_metering_agreements", ["plant_id"])


def downgrade() -> None:
    op.drop_table("net_metering_agreements")
    op.drop_table("solar_plants")
