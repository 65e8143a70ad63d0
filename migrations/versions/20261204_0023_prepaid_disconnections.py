"""prepaid alerts and automatic disconnection: the lowest low-balance level told per fall, the
pending disconnection command, and a row per automatic disconnection (issue 13)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

STATES = ("held", "commanded", "disconnected", "cancelled", "failed")


def upgrade() -> None:
    op.add_column("prepaid_accounts", sa.Column("low_alert_days", sa.SmallInteger()))
    op.add_column("prepaid_accounts", sa.Column("disconnection_id", sa.BigInteger()))
    op.create_table(
        "prepaid_disconnections",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("consumer_id", sa.Integer(), sa.ForeignKey("consumers.id"), nullable=False),
        sa.Column("division_id", sa.Integer(), sa.ForeignKey("org_units.id")),
        sa.Column("command_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("command_id", name=op.f("uq_prepaid_disconnections_command_id")),
        sa.Column("command_pk", sa.BigInteger()),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("balance_inr", sa.Numeric(14, 2), nullable=False),
        sa.Column("floor_inr", sa.Numeric(14, 2), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.String(200), nullable=False, server_default=""),
        sa.CheckConstraint(f"state IN {STATES}", name=op.f("ck_prepaid_disconnections_state")),
    )
    op.create_index("ix_prepaid_disconnections_due", "prepaid_disconnections", ["due_at"])
    op.create_index("ix_prepaid_disconnections_consumer", "prepaid_disconnections", ["consumer_id", "id"])
    op.create_foreign_key(
        "fk_prepaid_accounts_disconnection_id_prepaid_disconnections",
        "prepaid_accounts",
        "prepaid_disconnections",
        ["disconnection_id"],
        ["id"],
    )


def downgrade() -> None:
    op.drop_constraint(
        "fk_prepaid_accounts_disconnection_id_prepaid_disconnections", "prepaid_accounts", type_="foreignkey"
    )
    op.drop_table("prepaid_disconnections")
    op.drop_column("prepaid_accounts", "disconnection_id")
    op.drop_column("prepaid_accounts", "low_alert_days")
