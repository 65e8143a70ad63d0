"""Real PostgreSQL and Redis for every test; tables truncated and Redis flushed after each."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import text

from service import create_app, embedded
from service.config import Config
from tests import settings

ROOT = Path(__file__).resolve().parent.parent


def _with_db(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    started = embedded.EmbeddedServers()
    admin_url = settings.DATABASE_ADMIN_URL
    redis_url = settings.REDIS_URL
    if admin_url is None:
        admin_url = embedded.start_postgres(ROOT / "var" / settings.EMBEDDED_DIR, started)
    if redis_url is None:
        redis_url = embedded.start_redis(ROOT / "var" / settings.EMBEDDED_DIR, started)
    name = f"cmdms_test_{os.getpid()}"
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    yield {"database_url": _with_db(admin_url, name), "redis_url": redis_url, "admin_url": admin_url}
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()
    started.stop()


@pytest.fixture(scope="session")
def test_config(servers: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Config:
    var = tmp_path_factory.mktemp("var")
    return Config(
        database_url=servers["database_url"],
        redis_url=servers["redis_url"],
        secret_key="test-secret",
        testing=True,
        var_dir=var,
        amr_drop_dir=var / "amr-drop",
        webhook_secrets={"billing": "billing-webhook-secret", "payment_gateway": "gateway-webhook-secret"},
    )


@pytest.fixture(scope="session")
def app(test_config: Config) -> Flask:
    from flask_migrate import upgrade

    application = create_app(test_config)
    with application.app_context():
        upgrade()
    return application


@pytest.fixture(scope="session")
def _tables(app: Flask) -> str:
    with app.app_context():
        from service.extensions import db

        names = db.session.execute(
            text(
                "SELECT quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
                " AND c.relname <> 'alembic_version'"
            )
        ).scalars()
        joined = ", ".join(names)
        db.session.remove()
    return joined


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts on empty tables and an empty Redis database (only tests using `app`)."""
    if "app" not in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    tables: str = request.getfixturevalue("_tables")
    ctx = app.app_context()
    ctx.push()
    try:
        yield
    finally:
        from service.extensions import db
        from service.queues import redis_conn

        db.session.rollback()
        db.session.remove()
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        redis_conn(app).flushdb()
        ctx.pop()


class IsolatedClient(FlaskClient):
    """Each request gets its own application context, as in production: its own `g` (Flask-Login's
    cached user, the request's principal) and its own database session, torn down afterwards.
    Without this, requests reuse the test's app context and state leaks between requests."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Any:
    from service.extensions import db

    return db.session


@pytest.fixture
def redis(app: Flask) -> Redis:
    from service.queues import redis_conn

    return redis_conn(app)


@pytest.fixture
def run_jobs(app: Flask) -> Callable[..., int]:
    """Run queued RQ jobs with a real SimpleWorker in burst mode; returns jobs finished."""
    from service.queues import ALL_QUEUES, get_queue, redis_conn

    def finished(queues: list[Any]) -> int:
        return sum(q.finished_job_registry.count + q.failed_job_registry.count for q in queues)

    def run(*queue_names: str, with_scheduler: bool = False) -> int:
        queues = [get_queue(n, app) for n in (queue_names or ALL_QUEUES)]
        before = finished(queues)
        worker = SimpleWorker(queues, connection=redis_conn(app))
        # Its own app context, as in a real worker process: jobs that remove their database
        # session do not touch the test's session or objects.
        with app.app_context():
            worker.work(burst=True, with_scheduler=with_scheduler)
        return finished(queues) - before

    return run


@pytest.fixture
def demo(app: Flask) -> Any:
    """A small demo discom (300 consumers) with the demo users; returns the seed result."""
    from service.demo.seed import seed_demo
    from service.extensions import db

    result = seed_demo(db.session, consumers=300, seed=7)
    db.session.commit()
    return result


@pytest.fixture
def make_api_key(app: Flask) -> Callable[..., dict[str, str]]:
    """make_api_key("masterdata:write", system="billing") -> Authorization headers."""
    from service.audit.log import Actor
    from service.auth.api_keys import create_key
    from service.extensions import db

    def make(*scopes: str, system: str = "billing", org_unit_id: int | None = None) -> dict[str, str]:
        _, raw = create_key(db.session, system, list(scopes), Actor("cli", "test"), org_unit_id)
        db.session.commit()
        return {"Authorization": f"Bearer {raw}"}

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[str], FlaskClient]:
    """login("ee_east") logs the test client in as a demo user (password cmdms-demo)."""
    from service.masterdata.demo import DEMO_PASSWORD

    def do(username: str, password: str = DEMO_PASSWORD) -> FlaskClient:
        page = client.get("/login")
        token = _csrf_from(page.get_data(as_text=True))
        response = client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do


def _csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def csrf_token() -> Callable[[str], str]:
    return _csrf_from
