"""An RQ job for the jobs page tests: it fails until its Redis flag is set."""

from __future__ import annotations

from service.queues import redis_conn


def needs_flag(key: str) -> str:
    if not redis_conn().get(key):
        raise RuntimeError(f"flag {key} is not set")
    return "ran"
