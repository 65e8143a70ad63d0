"""A fresh database per benchmark run, on the server at CMDMS_BENCH_DATABASE_URL, dropped after."""

from __future__ import annotations

import os

import psycopg2
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    return os.environ.get("CMDMS_BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)


def redis_url(default_db: int = 9) -> str:
    return os.environ.get("CMDMS_BENCH_REDIS_URL", f"redis://127.0.0.1:6379/{default_db}")


class FreshDatabase:
    """`url = fresh.create()` then, in a `finally:`, `fresh.drop()`."""

    def __init__(self, label: str, admin: str | None = None) -> None:
        self.admin = admin or admin_url()
        self.name = f"cmdms_bench_{label}_{os.getpid()}"
        self._conn = psycopg2.connect(self.admin)
        self._conn.autocommit = True

    def create(self) -> str:
        with self._conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{self.name}"')
        return make_url(self.admin).set(database=self.name).render_as_string(hide_password=False)

    def drop(self) -> None:
        with self._conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._conn.close()
