"""measurement store (issue 3): month-partitioned readings, ingest batches, revisions, quarantine

Partitions are created by service.readings.partitions (scheduled ahead and on demand), not
here. No foreign keys from measurement rows (Citus later).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

QUALITY_CHECK = "quality IN ('raw', 'valid', 'estimated', 'edited', 'failed', 'suspect')"
FLAGGED = sa.text("quality IN ('failed', 'suspect')")


def _meta_columns():
    return [
        sa.Column("quality", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "ingest_batches",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rejects", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("meter_ids", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('stored', 'validated')", name=op.f("ck_ingest_batches_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batches")),
    )
    op.create_index(
        "ix_ingest_batches_pending",
        "ingest_batches",
        ["received_at"],
        postgresql_where=sa.text("status = 'stored'"),
    )
    op.create_index("ix_ingest_batches_message", "ingest_batches", ["source", "message_id"])

    op.create_table(
        "interval_readings",
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("interval_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("interval_minutes", sa.SmallInteger(), nullable=False),
        *_meta_columns(),
        sa.CheckConstraint(QUALITY_CHECK, name=op.f("ck_interval_readings_quality")),
        sa.PrimaryKeyConstraint("meter_id", "channel", "interval_end", name=op.f("pk_interval_readings")),
        postgresql_partition_by="RANGE (interval_end)",
    )
    op.create_index(
        "ix_interval_readings_flagged",
        "interval_readings",
        ["meter_id", "interval_end"],
        postgresql_where=FLAGGED,
    )

    op.create_table(
        "register_reads",
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("tod_zone", sa.SmallInteger(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),  # NULL: a status-only scalar read
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reading_status", sa.String(length=24), nullable=True),
        *_meta_columns(),
        sa.CheckConstraint(QUALITY_CHECK, name=op.f("ck_register_reads_quality")),
        sa.CheckConstraint(
            "kind IN ('daily', 'billing', 'scalar', 'instant')", name=op.f("ck_register_reads_kind")
        ),
        sa.CheckConstraint("tod_zone BETWEEN 0 AND 8", name=op.f("ck_register_reads_tod_zone")),
        sa.CheckConstraint(
            "value IS NOT NULL OR (kind = 'scalar' AND COALESCE(reading_status, 'normal') <> 'normal')",
            name=op.f("ck_register_reads_value_present"),
        ),
        sa.PrimaryKeyConstraint(
            "meter_id", "kind", "channel", "tod_zone", "read_at", name=op.f("pk_register_reads")
        ),
        postgresql_partition_by="RANGE (read_at)",
    )
    op.create_index(
        "ix_register_reads_flagged", "register_reads", ["meter_id", "read_at"], postgresql_where=FLAGGED
    )

    op.create_table(
        "meter_events",
        sa.Column("meter_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("meter_id", "code", "occurred_at", name=op.f("pk_meter_events")),
        postgresql_partition_by="RANGE (occurred_at)",
    )
    op.create_index("ix_meter_events_occurred", "meter_events", ["occurred_at", "code"])

    op.create_table(
        "network_energy",
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("network_kind", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("interval_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("interval_minutes", sa.SmallInteger(), nullable=False),
        *_meta_columns(),
        sa.CheckConstraint(QUALITY_CHECK, name=op.f("ck_network_energy_quality")),
        sa.CheckConstraint("network_kind IN ('feeder', 'dtr')", name=op.f("ck_network_energy_network_kind")),
        sa.PrimaryKeyConstraint(
            "network_id", "network_kind", "channel", "interval_end", name=op.f("pk_network_energy")
        ),
        postgresql_partition_by="RANGE (interval_end)",
    )

    op.create_table(
        "reading_revisions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("measure", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("old_value", sa.Float(), nullable=True),
        sa.Column("old_quality", sa.String(length=10), nullable=True),
        sa.Column("old_extra", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("old_source", sa.String(length=64), nullable=False),
        sa.Column("old_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("new_value", sa.Float(), nullable=True),
        sa.Column("new_extra", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("new_source", sa.String(length=64), nullable=False),
        sa.Column("new_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("applied", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "measure IN ('interval', 'register', 'event', 'network')",
            name=op.f("ck_reading_revisions_measure"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_revisions")),
    )
    op.create_index("ix_reading_revisions_subject", "reading_revisions", ["subject_id", "measure", "at"])

    op.create_table(
        "quarantined_readings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("subject_kind", sa.String(length=8), nullable=False),
        sa.Column("subject_code", sa.String(length=64), nullable=False),
        sa.Column("measure", sa.String(length=10), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "quarantined_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "subject_kind IN ('meter', 'feeder', 'dtr')", name=op.f("ck_quarantined_readings_subject_kind")
        ),
        sa.CheckConstraint(
            "measure IN ('interval', 'register', 'event', 'network')",
            name=op.f("ck_quarantined_readings_measure"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_readings")),
    )
    op.create_index(
        "ix_quarantined_readings_subject", "quarantined_readings", ["subject_kind", "subject_code"]
    )


def downgrade() -> None:
    # Dropping a partitioned table drops its partitions.
    op.drop_index("ix_quarantined_readings_subject", table_name="quarantined_readings")
    op.drop_table("quarantined_readings")
    op.drop_index("ix_reading_revisions_subject", table_name="reading_revisions")
    op.drop_table("reading_revisions")
    op.drop_table("network_energy")
    op.drop_index("ix_meter_events_occurred", table_name="meter_events")
    op.drop_table("meter_events")
    op.drop_index("ix_register_reads_flagged", table_name="register_reads")
    op.drop_table("register_reads")
    op.drop_index("ix_interval_readings_flagged", table_name="interval_readings")
    op.drop_table("interval_readings")
    op.drop_index("ix_ingest_batches_message", table_name="ingest_batches")
    op.drop_index("ix_ingest_batches_pending", table_name="ingest_batches")
    op.drop_table("ingest_batches")
