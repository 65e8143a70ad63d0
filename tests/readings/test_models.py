"""The measurement-store tables migration 0002 creates are the ones the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from service.extensions import db

READINGS_TABLES = (
    "ingest_batches",
    "interval_readings",
    "register_reads",
    "meter_events",
    "network_energy",
    "reading_revisions",
    "quarantined_readings",
)


def _table_of(diff: Any) -> str | None:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item:
        table = getattr(part, "table", None)
        if table is not None and getattr(table, "name", None):
            return str(table.name)
        if getattr(part, "name", None) and hasattr(part, "columns"):
            return str(part.name)
        if isinstance(part, str) and part in READINGS_TABLES:
            return part
    return None


def test_readings_models_match_migration_0002(app: Any) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, db.metadata)
    assert [d for d in diffs if _table_of(d) in READINGS_TABLES] == []


def test_register_value_is_nullable_and_guarded_by_a_check_in_the_migrated_schema(app: Any) -> None:
    with db.engine.connect() as conn:
        nullable = conn.execute(
            text(
                "SELECT is_nullable FROM information_schema.columns"
                " WHERE table_name = 'register_reads' AND column_name = 'value'"
            )
        ).scalar_one()
        check = conn.execute(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conname = 'ck_register_reads_value_present' AND conrelid = 'register_reads'::regclass"
            )
        ).scalar_one()
    assert nullable == "YES"
    assert "value IS NOT NULL" in check and "'scalar'" in check
