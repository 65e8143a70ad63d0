"""Alembic: upgrade -> downgrade base -> upgrade on a fresh database; the foundation models match."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2
import pytest
from flask import Flask
from flask_migrate import Migrate, downgrade, upgrade
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import inspect

from service import _migrations_dir, _sqlalchemy_url
from tests.conftest import _with_db

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
    name = "cmdms_migrations_test"
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


def test_foundation_models_match_the_migration(fresh_database: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import service.audit.models
    import service.auth.models
    import service.masterdata.models
    import service.outbox.models  # noqa: F401  (the foundation tables)
    from service.extensions import db as service_db

    app, db = _migration_app(fresh_database)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), service_db.metadata)
        db.engine.dispose()

    def table_of(diff: object) -> str | None:
        item = diff[-1] if isinstance(diff, list) else diff
        for part in item if isinstance(item, tuple) else (item,):
            name = getattr(part, "name", None) if hasattr(part, "columns") else None
            table = getattr(part, "table", None)
            if table is not None and hasattr(table, "name"):
                return table.name
            if name:
                return name
            if isinstance(part, str) and part in FOUNDATION_TABLES:
                return part
        return None

    ours = [d for d in diffs if table_of(d) in FOUNDATION_TABLES]
    assert ours == [], "\n".join(map(str, ours))
