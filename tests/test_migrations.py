"""Alembic: upgrade -> downgrade base -> upgrade on a fresh database; the foundation models match."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from flask import Flask
from flask_migrate import Migrate, downgrade, upgrade
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import inspect

from service import _migrations_dir, _sqlalchemy_url
from tests.conftest import _with_db

ROOT = Path(__file__).resolve().parent.parent

FOUNDATION_TABLES = {
    "audit_log",
    "org_units",
    "outbox",
    "api_keys",
    "users",
    "substations",
    "feeders",
    "dtrs",
    "consumers",
    "meters",
    "feeder_substation_links",
    "dtr_feeder_links",
    "consumer_supply_links",
    "installations",
}


@pytest.fixture
def fresh_database(servers: dict[str, str]) -> Iterator[str]:
    name = f"cmdms_migrations_test_{os.getpid()}"  # parallel runs (other worktrees) share the server
    conn = psycopg2.connect(servers["admin_url"])
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(servers["admin_url"], name)
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def _migration_app(url: str) -> tuple[Flask, SQLAlchemy]:
    # A bare app: only the database and the migration directory, no areas, no servers.
    app = Flask("migrations-test")
    app.config["SQLALCHEMY_DATABASE_URI"] = _sqlalchemy_url(url)
    db = SQLAlchemy()
    db.init_app(app)
    Migrate(app, db, directory=str(_migrations_dir()))
    return app, db


def _tables(db: SQLAlchemy) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_upgrade_downgrade_upgrade_round_trip(fresh_database: str) -> None:
    app, db = _migration_app(fresh_database)
    with app.app_context():
        upgrade()
        first = _tables(db)
        assert FOUNDATION_TABLES <= first

        downgrade(revision="base")
        assert _tables(db) <= {"alembic_version"}

        upgrade()
        assert _tables(db) == first
        db.engine.dispose()


def _all_models() -> Any:
    """Every area's models, so every table is compared (not only the foundation's)."""
    import importlib

    from service import AREAS
    from service.extensions import db as service_db

    for area in AREAS:
        if (ROOT / "service" / area / "models.py").exists():
            importlib.import_module(f"service.{area}.models")
    return service_db.metadata


def _drift(url: str, metadata: Any) -> tuple[list[Any], set[str]]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    app, db = _migration_app(url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
            tables = set(
                conn.exec_driver_sql(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
                    " AND c.relname <> 'alembic_version'"
                ).scalars()
            )
        db.engine.dispose()
    return diffs, tables


def test_every_model_matches_the_migrations_and_every_table_has_a_model(fresh_database: str) -> None:
    metadata = _all_models()
    diffs, tables = _drift(fresh_database, metadata)
    assert diffs == [], "\n".join(map(str, diffs))
    assert tables == set(metadata.tables)
    assert {"process_timers", "notifications", "vee_rule_files"} <= tables  # processes, notifications, vee


def test_the_drift_check_sees_a_column_missing_from_a_process_table(fresh_database: str) -> None:
    from sqlalchemy import Column, Integer, MetaData

    copy = MetaData()
    for table in _all_models().tables.values():
        table.to_metadata(copy)
    copy.tables["process_timers"].append_column(Column("escalation_level", Integer))
    diffs, _ = _drift(fresh_database, copy)
    assert [(d[0], d[2], d[3].name) for d in diffs] == [("add_column", "process_timers", "escalation_level")]
