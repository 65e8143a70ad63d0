"""The generic outbox: enqueued only after commit, retried with back-off, never lost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select, update

from service.outbox import handlers, jobs, outbox
from service.outbox.handlers import PermanentError
from service.outbox.models import OutboxItem

CALLS: list[dict[str, Any]] = []
FAILURES_LEFT: dict[str, int] = {}
EXHAUSTED: list[int] = []
DONE: list[tuple[int, Any]] = []


def _handle(session: Any, payload: dict[str, Any], item: OutboxItem, adapters: Any) -> dict[str, Any]:
    CALLS.append(payload)
    if FAILURES_LEFT.get("n", 0) > 0:
        FAILURES_LEFT["n"] -= 1
        raise ConnectionError("provider down")
    if payload.get("permanent"):
        raise PermanentError("invalid number")
    return {"receipt": f"r-{payload['n']}"}


@pytest.fixture(autouse=True)
def _operation() -> None:
    CALLS.clear()
    FAILURES_LEFT.clear()
    EXHAUSTED.clear()
    DONE.clear()
    handlers.register(
        "test.echo",
        _handle,
        on_exhausted=lambda s, item: EXHAUSTED.append(item.id),
        on_done=lambda s, item, result: DONE.append((item.id, result)),
        backoff_seconds=2,
    )


def _queued(redis: Redis, name: str = "default") -> int:
    return Queue(name, connection=redis).count


def test_item_reaches_the_queue_only_after_commit(session: Any, redis: Redis) -> None:
    outbox.add(session, "test.echo", {"n": 1})
    assert _queued(redis) == 0
    session.commit()
    assert _queued(redis) == 1


def test_rolled_back_item_is_neither_stored_nor_queued(session: Any, redis: Redis) -> None:
    outbox.add(session, "test.echo", {"n": 1})
    session.rollback()
    assert _queued(redis) == 0
    assert session.scalar(select(OutboxItem.id)) is None


def test_worker_runs_item_and_applies_result_in_done_hook(session: Any, run_jobs: Callable[..., int]) -> None:
    item_id = outbox.add(session, "test.echo", {"n": 7})
    session.commit()
    run_jobs("default")
    item = session.get(OutboxItem, item_id)
    assert (item.status, item.attempts, item.result) == ("done", 1, {"receipt": "r-7"})
    assert DONE == [(item_id, {"receipt": "r-7"})]
    assert CALLS == [{"n": 7}]


def test_same_dedupe_key_gives_one_item(session: Any, redis: Redis) -> None:
    first = outbox.add(session, "test.echo", {"n": 1}, dedupe_key="bill:42:2026-10")
    second = outbox.add(session, "test.echo", {"n": 2}, dedupe_key="bill:42:2026-10")
    session.commit()
    assert first is not None and second is None
    assert session.scalars(select(OutboxItem.payload)).all() == [{"n": 1}]
    assert _queued(redis) == 1


def test_failure_schedules_retry_with_backoff_then_succeeds_once(
    session: Any, run_jobs: Callable[..., int]
) -> None:
    FAILURES_LEFT["n"] = 1
    item_id = outbox.add(session, "test.echo", {"n": 3})
    session.commit()
    before = datetime.now(UTC)
    run_jobs("default")
    item = session.get(OutboxItem, item_id)
    assert (item.status, item.attempts) == ("pending", 1)
    assert item.last_error == "ConnectionError: provider down"
    assert before + timedelta(seconds=1) < item.next_attempt_at <= datetime.now(UTC) + timedelta(seconds=2)
    # Not due yet: the sweep leaves it alone.
    assert jobs.sweep() == 0
    session.execute(update(OutboxItem).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
    session.commit()
    assert jobs.sweep() == 1
    run_jobs("default")
    item = session.get(OutboxItem, item_id)
    assert (item.status, item.attempts, item.last_error) == ("done", 2, None)
    assert CALLS == [{"n": 3}, {"n": 3}]


def test_permanent_error_fails_at_once_and_calls_exhausted_hook(
    session: Any, run_jobs: Callable[..., int]
) -> None:
    item_id = outbox.add(session, "test.echo", {"n": 4, "permanent": True})
    session.commit()
    run_jobs("default")
    item = session.get(OutboxItem, item_id)
    assert (item.status, item.attempts) == ("failed", 1)
    assert item.last_error == "PermanentError: invalid number"
    assert EXHAUSTED == [item_id]


def test_last_attempt_exhausts_and_admin_retry_runs_it_again(
    session: Any, run_jobs: Callable[..., int]
) -> None:
    FAILURES_LEFT["n"] = 1
    item_id = outbox.add(session, "test.echo", {"n": 5}, max_attempts=1)
    session.commit()
    run_jobs("default")
    assert session.get(OutboxItem, item_id).status == "failed"
    assert EXHAUSTED == [item_id]
    outbox.retry(session, item_id)
    session.commit()
    run_jobs("default")
    item = session.get(OutboxItem, item_id)
    assert (item.status, item.attempts) == ("done", 1)


def test_sweep_recovers_items_when_redis_lost_its_jobs(
    session: Any, redis: Redis, run_jobs: Callable[..., int]
) -> None:
    item_id = outbox.add(session, "test.echo", {"n": 6})
    session.commit()
    redis.flushdb()
    assert run_jobs("default") == 0
    assert jobs.sweep() == 1
    run_jobs("default")
    assert session.get(OutboxItem, item_id).status == "done"


def test_item_of_a_dead_worker_is_picked_up_again(session: Any, run_jobs: Callable[..., int]) -> None:
    item_id = outbox.add(session, "test.echo", {"n": 8})
    session.commit()
    claimed = outbox.claim(session, item_id)
    assert claimed is not None
    claimed.started_at = datetime.now(UTC) - timedelta(minutes=11)
    session.commit()
    assert jobs.sweep() == 1
    run_jobs("default")
    item = session.get(OutboxItem, item_id)
    assert (item.status, item.attempts) == ("done", 2)


def test_running_an_item_twice_calls_the_handler_once(session: Any, run_jobs: Callable[..., int]) -> None:
    item_id = outbox.add(session, "test.echo", {"n": 9})
    session.commit()
    assert jobs.run_item(item_id) == "done"
    assert jobs.run_item(item_id) == "skipped"
    assert CALLS == [{"n": 9}]


def test_unknown_operation_is_refused_when_added(session: Any) -> None:
    with pytest.raises(KeyError, match="unknown outbox operation 'no.such'"):
        outbox.add(session, "no.such", {})


def test_run_jobs_counts_the_jobs_it_ran(session: Any, run_jobs: Callable[..., int]) -> None:
    outbox.add(session, "test.echo", {"n": 10})
    outbox.add(session, "test.echo", {"n": 11})
    session.commit()
    assert run_jobs("default") == 2
    assert run_jobs("default") == 0
