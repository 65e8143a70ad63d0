"""The VEE tables the migration creates are the ones the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from service.extensions import db

VEE_TABLES = ("vee_failures", "vee_estimates", "vee_edits", "vee_rule_files", "billing_determinants")


def test_vee_models_match_migration_0003(app: Any) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, db.metadata)
    assert [d for d in diffs if any(table in str(d) for table in VEE_TABLES)] == []
