"""A unit of work per entry point: commit or roll back, then after-commit effects that never raise.

Entry points (API views, pages, RQ jobs, CLI commands) write
    with unit_of_work() as uow:
        ...logic(uow.session, ids)...
        uow.commit()
Leaving the block without `commit()` (or by an exception) rolls back. Logic modules register
what must happen once the data is durable (an RQ enqueue, a timer on RQ's schedule) with
`after_commit(session, effect)`; effects run after the commit, in order, each with its errors
caught and logged, so a commit is never answered as a failure because Redis is down. Every
such effect has a sweep that finds its rows in PostgreSQL again (outbox, stored batches, due
timers, notifications), which delivers what a failed effect missed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

log = logging.getLogger(__name__)
EFFECTS_KEY = "cmdms.after_commit"
INDEX_KEY = "cmdms.after_commit_collected"
Effect = Callable[[], object]

_installed = False


class UnitOfWork:
    """The session of one use case; `commit()` makes it durable and runs its effects."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.committed = False

    def commit(self) -> None:
        self.session.commit()
        self.committed = True

    def rollback(self) -> None:
        self.session.rollback()


@contextmanager
def unit_of_work(
    session: Session | scoped_session[Session] | None = None, *, remove: bool = False
) -> Iterator[UnitOfWork]:
    """Roll back whatever was not committed when the block ends; `remove` ends a job's session."""
    from service.extensions import db

    scoped = session is None
    uow = UnitOfWork(db.session() if session is None else _plain(session))
    try:
        yield uow
    finally:
        try:
            uow.session.rollback()
            _drop(uow.session)  # registered but never committed (e.g. with no SQL emitted)
        finally:
            if remove and scoped:
                db.session.remove()


def after_commit(
    session: Session | scoped_session[Session], effect: Effect, *, group: str | None = None
) -> None:
    """Run `effect()` once the session's current transaction commits; forgotten if it rolls back.

    Effects of one `group` (e.g. "redis") after a failed one are skipped: when Redis is down, a
    batch of a thousand enqueues costs one refused connection and one log line, not a thousand."""
    session = _plain(session)
    session.info.setdefault(EFFECTS_KEY, []).append((session.get_nested_transaction(), group, effect))


class _Collected:
    """One effect for many items of a transaction (one RQ job per chunk, not per row)."""

    def __init__(self, key: str, flush: Callable[[list[Any]], object]) -> None:
        self.key, self.flush = key, flush
        self.entries: list[tuple[SessionTransaction | None, Any]] = []
        self.__qualname__ = getattr(flush, "__qualname__", key)

    @property
    def items(self) -> list[Any]:
        return [item for _, item in self.entries]

    def __call__(self) -> object:
        return self.flush(self.items)


def collect_after_commit(
    session: Session | scoped_session[Session],
    key: str,
    item: Any,
    flush: Callable[[list[Any]], object],
    *,
    group: str | None = "redis",
) -> None:
    """Add `item` to the list handed once to `flush(items)` after this transaction commits."""
    session = _plain(session)
    index: dict[str, _Collected] = session.info.setdefault(INDEX_KEY, {})
    collected = index.get(key)
    if collected is None:
        collected = index[key] = _Collected(key, flush)
        after_commit(session, collected, group=group)
    collected.entries.append((session.get_nested_transaction(), item))


def collected(session: Session | scoped_session[Session], key: str) -> list[Any]:
    """The items collected under `key` in the current transaction so far."""
    found = _plain(session).info.get(INDEX_KEY, {}).get(key)
    return found.items if found is not None else []


def run_effects(session: Session) -> int:
    """Run and forget the effects of a committed transaction. Returns how many did not run."""
    effects: list[tuple[Any, str | None, Effect]] = session.info.pop(EFFECTS_KEY, [])
    session.info.pop(INDEX_KEY, None)
    if effects and not has_app_context():
        # Scripts and benchmarks without the application have no Redis: the sweeps deliver.
        log.debug("no application context: %d after-commit effects left to the sweeps", len(effects))
        return len(effects)
    broken: dict[str, int] = {}
    failed = 0
    for _, group, effect in effects:
        if group is not None and group in broken:
            broken[group] += 1
            failed += 1
            continue
        try:
            effect()
        except Exception as exc:  # noqa: BLE001 - the data is committed; a sweep delivers the rest
            failed += 1
            if group is not None:
                broken[group] = 0
            log.warning("after-commit effect %s failed (its sweep will deliver it): %s", _name(effect), exc)
    for group, skipped in broken.items():
        if skipped:
            log.warning(
                "skipped %d more %s effects after that failure; their sweeps deliver them", skipped, group
            )
    return failed


def _forget(session: Session, previous: SessionTransaction) -> None:
    """A rolled-back savepoint drops the effects registered inside it; a full rollback drops all."""
    effects: list[tuple[Any, str | None, Effect]] = session.info.get(EFFECTS_KEY, [])
    if not effects:
        return
    if not previous.nested:
        _drop(session)
        return
    kept = [e for e in effects if not _within(e[0], previous)]
    session.info[EFFECTS_KEY] = kept
    session.info[INDEX_KEY] = index = {e[2].key: e[2] for e in kept if isinstance(e[2], _Collected)}
    for bucket in index.values():
        bucket.entries = [(tx, item) for tx, item in bucket.entries if not _within(tx, previous)]


def _ended(session: Session, transaction: SessionTransaction) -> None:
    """An outermost transaction ended (after_commit ran first and took its effects): drop the rest."""
    if transaction.parent is None:
        _drop(session)


def _drop(session: Session) -> None:
    session.info.pop(EFFECTS_KEY, None)
    session.info.pop(INDEX_KEY, None)


def _within(tx: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while tx is not None:
        if tx is ancestor:
            return True
        tx = tx.parent
    return False


def _plain(session: Session | scoped_session[Session]) -> Session:
    """The session itself when given Flask-SQLAlchemy's scoped proxy (`db.session`)."""
    return session() if isinstance(session, scoped_session) else session


def _name(effect: Effect) -> str:
    return getattr(effect, "__qualname__", repr(effect))


def install() -> None:
    """Hook every ORM session once (create_app calls this)."""
    global _installed
    if not _installed:
        event.listen(Session, "after_commit", run_effects)
        event.listen(Session, "after_soft_rollback", _forget)
        event.listen(Session, "after_transaction_end", _ended)
        _installed = True
