"""security (issue 20): ingest batch and message sender scope, per-user session version

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ingest_batches", sa.Column("org_unit_id", sa.Integer(), nullable=True))
    op.add_column("process_messages", sa.Column("sender_org_unit_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("process_messages", "sender_org_unit_id")
    op.drop_column("ingest_batches", "org_unit_id")
