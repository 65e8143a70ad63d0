"""purchase orders and their lines; asset group, PO line and batch of a meter asset (issue 12)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

GROUPS = ("WC", "LTCT", "LT", "HT")


def upgrade() -> None:
    op.create_table(
        "purchase_orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("po_number", sa.String(40), nullable=False),
        sa.Column("vendor", sa.String(120), nullable=False),
        sa.Column("po_date", sa.Date(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), sa.ForeignKey("org_units.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("po_number", name=op.f("uq_purchase_orders_po_number")),
    )
    op.create_index("ix_purchase_orders_org_unit_id", "purchase_orders", ["org_unit_id"])
    op.create_table(
        "purchase_order_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("po_id", sa.Integer(), sa.ForeignKey("purchase_orders.id"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("make", sa.String(80), nullable=False),
        sa.Column("model", sa.String(80)),
        sa.Column("meter_class", sa.String(16), nullable=False),
        sa.Column("asset_group", sa.String(8), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("warranty_months", sa.Integer()),
        sa.UniqueConstraint("po_id", "line_no", name="uq_purchase_order_lines_no"),
        sa.CheckConstraint("quantity > 0 AND delivered BETWEEN 0 AND quantity", name="po_line_quantities"),
        sa.CheckConstraint(f"asset_group IN {GROUPS}", name="po_line_group"),
    )
    op.add_column("meter_assets", sa.Column("asset_group", sa.String(8)))
    op.add_column("meter_assets", sa.Column("po_line_id", sa.Integer(), sa.ForeignKey("purchase_order_lines.id")))
    op.add_column("meter_assets", sa.Column("batch", sa.String(40)))
    op.create_index("ix_meter_assets_po_line_id", "meter_assets", ["po_line_id"])
    op.create_check_constraint("asset_group", "meter_assets", f"asset_group IN {GROUPS}")


def downgrade() -> None:
    op.drop_constraint("asset_group", "meter_assets")
    op.drop_index("ix_meter_assets_po_line_id", "meter_assets")
    for column in ("batch", "po_line_id", "asset_group"):
        op.drop_column("meter_assets", column)
    op.drop_table("purchase_order_lines")
    op.drop_table("purchase_orders")
