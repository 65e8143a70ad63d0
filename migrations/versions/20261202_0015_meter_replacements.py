"""meter replacements (issue 12)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

KINDS = ("scalar", "smart")
STATES = ("done", "validating", "commissioning", "awaiting_billing", "rejected", "failed")


def upgrade() -> None:
    op.create_table(
        "meter_replacements",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("consumer_id", sa.Integer(), sa.ForeignKey("consumers.id"), nullable=False),
        sa.Column("old_meter_id", sa.Integer(), sa.ForeignKey("meters.id"), nullable=False),
        sa.Column("new_meter_id", sa.Integer(), sa.ForeignKey("meters.id"), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("final_kwh", sa.Numeric(14, 3), nullable=False),
        sa.Column("initial_kwh", sa.Numeric(14, 3), nullable=False),
        sa.Column("photo_ref", sa.String(200)),
        sa.Column("reason", sa.Text()),
        sa.Column("instance_id", sa.BigInteger()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(f"kind IN {KINDS}", name="replacement_kind"),
        sa.CheckConstraint(f"state IN {STATES}", name="replacement_state"),
        sa.CheckConstraint("old_meter_id <> new_meter_id", name="two_meters"),
        sa.UniqueConstraint("old_meter_id", "replaced_at", name="uq_meter_replacements_old_at"),
    )
    op.create_index("ix_meter_replacements_consumer_id", "meter_replacements", ["consumer_id"])
    op.create_index("ix_meter_replacements_new_meter_id", "meter_replacements", ["new_meter_id"])
    op.create_index("ix_meter_replacements_old", "meter_replacements", ["old_meter_id"])


def downgrade() -> None:
    op.drop_table("meter_replacements")
