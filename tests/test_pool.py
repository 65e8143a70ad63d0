"""Without a ping per transaction, connections a database restart broke are still replaced."""

from __future__ import annotations

import time
from typing import Any

import psycopg2
import pytest
from sqlalchemy import create_engine, exc, text

from service.pool import ping_idle_connections


def _engine(url: str, **options: Any) -> Any:
    return create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1), pool_size=2, **options)


def _kill_pooled_backends(url: str, engine: Any) -> None:
    """What a restart does to the pool's connections: the server side of each one goes away."""
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = psycopg2.connect(url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    admin.close()


def test_a_connection_broken_while_idle_is_replaced_at_checkout(servers: dict[str, str]) -> None:
    engine = _engine(servers["database_url"])
    ping_idle_connections(engine, idle_ping_s=0.05)
    _kill_pooled_backends(servers["database_url"], engine)
    time.sleep(0.1)  # idle longer than the threshold, as every connection is across a restart
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()


def test_without_the_check_the_broken_connection_fails_the_next_transaction(servers: dict[str, str]) -> None:
    engine = _engine(servers["database_url"])
    _kill_pooled_backends(servers["database_url"], engine)
    with pytest.raises(exc.OperationalError), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    with engine.connect() as conn:  # SQLAlchemy invalidated the pool: the next one reconnects
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()
