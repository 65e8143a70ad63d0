"""consumer app: sign-in codes to the registered mobile and hashed bearer tokens (issue 16)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consumer_otps",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("consumer_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("object_key", sa.String(length=128), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notification_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'used', 'exhausted', 'superseded')", name=op.f("ck_consumer_otps_status")
        ),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_consumer_otps_consumer_id_consumers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumer_otps")),
    )
    op.create_index("ix_consumer_otps_consumer_created", "consumer_otps", ["consumer_id", "id"], unique=False)
    op.create_table(
        "consumer_app_tokens",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("consumer_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["consumer_id"], ["consumers.id"], name=op.f("fk_consumer_app_tokens_consumer_id_consumers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consumer_app_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_consumer_app_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_consumer_app_tokens_consumer_id"), "consumer_app_tokens", ["consumer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_consumer_app_tokens_consumer_id"), table_name="consumer_app_tokens")
    op.drop_table("consumer_app_tokens")
    op.drop_index("ix_consumer_otps_consumer_created", table_name="consumer_otps")
    op.drop_table("consumer_otps")
