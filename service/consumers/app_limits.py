"""Rate limits and the answer cache of the consumer app API, on Redis.

Limits are fixed windows (INCR + EXPIRE in one round trip) per token and per client address;
past a limit the caller gets how many seconds remain. Answers of the consumption endpoints are
cached per consumer, report, language and local day for a few minutes: the daily aggregates
change only when VEE runs. Redis being down never refuses or fails a request: no limit is
applied and the answer is computed (logged).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
EXTENSION_KEY = "cmdms.consumer_app_limits"


@dataclass(frozen=True)
class Limits:
    per_token: int = 120  # requests per window for one signed-in app
    per_address: int = 600  # requests per window from one client address (NAT'd phones share one)
    sign_in_per_address: int = 30  # code requests and sign-ins per window from one address
    window_seconds: int = 60
    cache_seconds: int = 300


def over_limit(redis: Redis, key: str, limit: int, window_seconds: int, now_epoch: float) -> int | None:
    """Count one request under `key`; the seconds until the window ends if it is past `limit`."""
    window = int(now_epoch // window_seconds)
    name = f"consumer-app:rate:{key}:{window}"
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, window_seconds + 1)
        count = int(pipe.execute()[0])
    except RedisError as exc:
        log.warning("consumer app rate limit not applied (Redis): %s", exc)
        return None
    if count <= limit:
        return None
    return max(1, int((window + 1) * window_seconds - now_epoch) + 1)


def cached(redis: Redis, key: str) -> dict[str, Any] | None:
    try:
        raw = redis.get(f"consumer-app:cache:{key}")  # a sync client: bytes or None
    except RedisError as exc:
        log.warning("consumer app cache not read (Redis): %s", exc)
        return None
    if raw is None:
        return None
    found: dict[str, Any] = json.loads(raw)  # type: ignore[arg-type]
    return found


def keep(redis: Redis, key: str, body: dict[str, Any], seconds: int) -> None:
    try:
        redis.set(f"consumer-app:cache:{key}", json.dumps(body, separators=(",", ":")), ex=seconds)
    except RedisError as exc:
        log.warning("consumer app cache not written (Redis): %s", exc)
