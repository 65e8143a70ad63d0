"""a rejected meter replacement no longer blocks its corrected resubmission (issue 12)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("uq_meter_replacements_old_at", "meter_replacements", type_="unique")
    op.create_index(
        "uq_meter_replacements_old_at_live", "meter_replacements", ["old_meter_id", "replaced_at"], unique=True,
        postgresql_where=sa.text("state NOT IN ('rejected', 'failed')"),
    )


def downgrade() -> None:
    op.drop_index("uq_meter_replacements_old_at_live", "meter_replacements")
    op.create_unique_constraint("uq_meter_replacements_old_at", "meter_replacements", ["old_meter_id", "replaced_at"])
