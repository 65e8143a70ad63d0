from redis import Redis
from rq import Queue

from service.ops.periodic import PERIODIC, register_periodic, tick


def _noop() -> None:
    return None


def test_each_periodic_task_fires_once_per_period_across_workers(redis: Redis) -> None:
    saved = dict(PERIODIC)
    PERIODIC.clear()
    try:
        register_periodic("test.noop", 60, _noop, queue="bulk")
        assert tick(redis) == ["test.noop"]
        assert tick(redis) == []  # a second worker in the same period does nothing
        assert Queue("bulk", connection=redis).count == 1
    finally:
        PERIODIC.clear()
        PERIODIC.update(saved)
