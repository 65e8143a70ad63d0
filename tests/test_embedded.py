"""The embedded default: a real PostgreSQL and Redis under a var directory, started and stopped."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg2

from service import embedded


def _postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_embedded_postgres_and_redis_start_serve_and_stop(tmp_path: Path) -> None:
    servers = embedded.start(tmp_path, postgres=True, redis=True)
    try:
        assert servers.database_url and servers.database_url.startswith("postgresql://")
        assert servers.redis_url and servers.redis_url.startswith("unix://")
        conn = psycopg2.connect(servers.database_url)
        with conn.cursor() as cur:
            cur.execute("SELECT current_database(), 1 + 1")
            assert cur.fetchone() == ("cmdms", 2)
        conn.close()
        from redis import Redis

        client = Redis.from_url(servers.redis_url)
        client.set("cmdms:probe", "ok")
        assert client.get("cmdms:probe") == b"ok"
        client.close()
        pid = _postmaster_pid(tmp_path / "pgdata")
        assert _alive(pid)
    finally:
        servers.stop()
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()
    assert (tmp_path / "pgdata" / "PG_VERSION").exists()  # the data stays for the next start


def test_embedded_postgres_reuses_its_data_on_the_next_start(tmp_path: Path) -> None:
    first = embedded.start(tmp_path, postgres=True, redis=False)
    try:
        conn = psycopg2.connect(first.database_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE kept (n int)")
            cur.execute("INSERT INTO kept VALUES (42)")
        conn.close()
    finally:
        first.stop()
    second = embedded.start(tmp_path, postgres=True, redis=False)
    try:
        conn = psycopg2.connect(second.database_url)
        with conn.cursor() as cur:
            cur.execute("SELECT n FROM kept")
            assert cur.fetchone() == (42,)
        conn.close()
    finally:
        second.stop()
