"""prepaid accounts, append-only ledger, payment-mode history (issue 13)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ENTRY_KINDS = (
    "opening_balance",
    "recharge",
    "daily_charge",
    "true_up",
    "adjustment",
    "reversal",
    "closing_balance",
)


def upgrade() -> None:
    op.create_table(
        "prepaid_accounts",
        sa.Column("consumer_id", sa.Integer(), sa.ForeignKey("consumers.id"), primary_key=True),
        sa.Column("balance_inr", sa.Numeric(14, 2), nullable=False, server_default="0"),
        sa.Column("entries", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("is_open", sa.Boolean(), nullable=False, server_default="true"),
        sa.Column("prepaid_from", sa.Date(), nullable=False),
        sa.Column("disconnected_for_balance", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("disconnect_due_since", sa.DateTime(timezone=True)),
        sa.Column("emergency_credit_at", sa.DateTime(timezone=True)),
        sa.Column("low_alert_at", sa.DateTime(timezone=True)),
        sa.Column("zero_alert_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "prepaid_ledger",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("consumer_id", sa.Integer(), sa.ForeignKey("consumers.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(120), nullable=False),
        sa.Column("amount_inr", sa.Numeric(14, 2), nullable=False),
        sa.Column("balance_after_inr", sa.Numeric(14, 2), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("kwh", sa.Numeric(14, 3)),
        sa.Column("estimated", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("tariff_version", sa.String(64)),
        sa.Column("reverses_id", sa.BigInteger(), sa.ForeignKey("prepaid_ledger.id")),
        sa.UniqueConstraint("reverses_id", name=op.f("uq_prepaid_ledger_reverses_id")),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("detail", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("kind", "source_id", name="uq_prepaid_ledger_source"),
        sa.CheckConstraint(f"kind IN {ENTRY_KINDS}", name=op.f("ck_prepaid_ledger_entry_kind")),
    )
    op.create_index("ix_prepaid_ledger_consumer", "prepaid_ledger", ["consumer_id", "id"])
    op.create_index("ix_prepaid_ledger_day", "prepaid_ledger", ["business_day", "kind"])
    # Append-only: a correction is a new entry (reversal, adjustment, true-up), never an edit.
    op.execute(
        """
        CREATE FUNCTION prepaid_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'prepaid_ledger is append-only (% refused)', TG_OP;
        END $$;
        CREATE TRIGGER prepaid_ledger_append_only BEFORE UPDATE OR DELETE ON prepaid_ledger
            FOR EACH ROW EXECUTE FUNCTION prepaid_ledger_append_only();
        """
    )
    op.create_table(
        "prepaid_modes",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("consumer_id", sa.Integer(), sa.ForeignKey("consumers.id"), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date()),
        sa.Column("source_id", sa.String(120), nullable=False),
        sa.UniqueConstraint("source_id", name=op.f("uq_prepaid_modes_source_id")),
        sa.Column("balance_inr", sa.Numeric(14, 2), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("mode IN ('prepaid', 'postpaid')", name=op.f("ck_prepaid_modes_mode")),
    )
    op.create_index("ix_prepaid_modes_consumer", "prepaid_modes", ["consumer_id", "effective_from"])


def downgrade() -> None:
    op.drop_table("prepaid_modes")
    op.execute("DROP TRIGGER prepaid_ledger_append_only ON prepaid_ledger")
    op.drop_table("prepaid_ledger")
    op.execute("DROP FUNCTION prepaid_ledger_append_only()")
    op.drop_table("prepaid_accounts")
