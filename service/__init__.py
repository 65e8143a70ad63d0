"""CMDMS, the Common Meter Data Management System: the Flask application factory."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from flask import Flask

from service.config import Config, load_config

# Domain areas, in registration order. Each package exposes init_app(app): models, API
# blueprints, pages, CLI commands and RQ job wiring of that area.
AREAS = (
    "audit",
    "auth",
    "masterdata",
    "assets",
    "outbox",
    "readings",
    "vee",
    "aggregates",
    "energy_audit",
    "outages",
    "revenue",
    "reports",
    # before processes: it checks the BPMN files against the operations registered by then
    "commands",
    "disconnections",
    "prepaid",
    "processes",
    "notifications",
    "consumers",
    "web",
    "admin",
    "demo",
    "ops",
)

# clock: () -> aware datetime, for rules that depend on the hour or the day (tests set it).
PORT_NAMES = ("sms", "sms_http", "push", "hes", "billing", "clock")


def create_app(config: Config | None = None, **ports: Any) -> Flask:
    """Build the application. `ports` replace outside-system adapters (sms, push, hes, billing)."""
    from service import embedded, pool, queues, unit_of_work
    from service.extensions import api, csrf, db, login_manager, migrate
    from service.ports import KEY as ADAPTERS_KEY
    from service.ports import build_adapters

    config = config or load_config()
    unknown = set(ports) - set(PORT_NAMES)
    if unknown:
        raise TypeError(f"unknown ports: {sorted(unknown)}")

    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    servers = embedded.start(
        config.var_dir, postgres=config.database_url is None, redis=config.redis_url is None
    )
    if servers.database_url or servers.redis_url:
        config = config.with_(
            database_url=config.database_url or servers.database_url,
            redis_url=config.redis_url or servers.redis_url,
        )
    app.extensions["cmdms.embedded"] = servers
    app.extensions["cmdms.config"] = config
    app.extensions["cmdms.ports"] = {name: ports.get(name) for name in PORT_NAMES}
    app.extensions[ADAPTERS_KEY] = build_adapters(config, ports)

    app.config.update(
        SECRET_KEY=config.secret_key,
        TESTING=config.testing,
        SQLALCHEMY_DATABASE_URI=_sqlalchemy_url(config.database_url or ""),
        # No ping per transaction: service.pool pings connections that sat idle.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False},
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.session_cookie_secure,
        MAX_CONTENT_LENGTH=config.max_content_length,
        API_TITLE="CMDMS",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/static/swagger-ui/",
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "API key"}}
            },
            "security": [{"bearer": []}],
        },
        WTF_CSRF_TIME_LIMIT=None,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    db.init_app(app)
    with app.app_context():
        pool.ping_idle_connections(db.engine)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    login_manager.init_app(app)
    csrf.init_app(app)
    api.init_app(app)
    queues.init_app(app, config.redis_url or "")
    unit_of_work.install()

    for area in AREAS:
        module = importlib.import_module(f"service.{area}")
        module.init_app(app)
    return app


def app_config(app: Flask) -> Config:
    return app.extensions["cmdms.config"]


def _sqlalchemy_url(url: str) -> str:
    # psycopg2 for the ORM and for COPY (on the session's own connection, so COPY is part of the
    # transaction); psycopg 3 only appears in a benchmark.
    if url.startswith("postgresql://"):
        return "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def _migrations_dir() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"
