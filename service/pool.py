"""Connection health without a ping per transaction: only connections that sat idle are checked.

`pool_pre_ping` sent a `SELECT 1` before every transaction: 0.3–0.8 ms, about a fifth of a
single workflow start (benchmarks/README.md). A database restart takes seconds, so every
connection it broke sat in the pool longer than `IDLE_PING_S` and is pinged (and replaced) at
its next checkout; one that was in use when the server went away fails its statement, as it
did with pre-ping, and SQLAlchemy then invalidates the whole pool. Under load, connections
are reused within milliseconds and never pinged.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

IDLE_PING_S = 1.0
_CHECKED_IN = "cmdms.checked_in_at"


def ping_idle_connections(engine: Engine, idle_ping_s: float = IDLE_PING_S) -> None:
    @event.listens_for(engine.pool, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get(_CHECKED_IN)
        if checked_in is None or time.monotonic() - checked_in < idle_ping_s:
            return  # fresh from connect(), or reused at once
        try:
            # In autocommit, as SQLAlchemy's own ping: the ping must not open the transaction.
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            try:
                cursor = dbapi_connection.cursor()
                try:
                    cursor.execute("SELECT 1")
                finally:
                    cursor.close()
            finally:
                dbapi_connection.autocommit = autocommit
        except Exception as error:
            # The pool discards this connection and checks out another (up to three times).
            raise exc.DisconnectionError(str(error)) from error
