"""staff language: each user's choice of English or Hindi for the staff pages (issue 19)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 06:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("language", sa.String(length=2), server_default="en", nullable=False))
    op.create_check_constraint(op.f("ck_users_language"), "users", "language IN ('en', 'hi')")


def downgrade():
    op.drop_constraint(op.f("ck_users_language"), "users", type_="check")
    op.drop_column("users", "language")
