"""GET /healthz: database, Redis and migration state; 503 when one is not ok."""

from __future__ import annotations

from typing import Any

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from flask_migrate import Migrate
from sqlalchemy import text

from service.extensions import db
from service.queues import redis_conn

bp = Blueprint("health", __name__)


def migration_state() -> dict[str, Any]:
    migrate: Migrate = current_app.extensions["migrate"].migrate
    config = migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    current = set(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return {"ok": current == heads, "current": sorted(current), "heads": sorted(heads)}


@bp.get("/healthz")
def healthz() -> Any:
    checks: dict[str, Any] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
        try:
            checks["migrations"] = migration_state()
        except Exception as exc:  # noqa: BLE001 - no alembic_version table yet
            db.session.rollback()
            checks["migrations"] = {"ok": False, "error": type(exc).__name__}
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        checks["database"] = {"ok": False, "error": str(exc).splitlines()[0]}
        checks["migrations"] = {"ok": False, "error": "database unavailable"}
    try:
        redis_conn().ping()
        checks["redis"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = {"ok": False, "error": str(exc).splitlines()[0]}
    ok = all(c["ok"] for c in checks.values())
    return jsonify({"status": "ok" if ok else "unavailable", "checks": checks}), 200 if ok else 503
