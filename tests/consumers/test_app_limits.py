"""Rate limits (per token, per client address; 429 with Retry-After) and the cached answers of
the consumption endpoints; Redis failing never fails a request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import text

from service.consumers.app_limits import EXTENSION_KEY, Limits
from tests.consumers.conftest import AppSignIn
from tests.consumption.conftest import Consumers


@pytest.fixture
def limits(app: Flask) -> Iterator[Any]:
    saved = app.extensions[EXTENSION_KEY]

    def set_limits(**changes: int) -> None:
        app.extensions[EXTENSION_KEY] = replace(Limits(), **changes)

    yield set_limits
    app.extensions[EXTENSION_KEY] = saved


def test_past_the_per_token_limit_is_429_with_retry_after_until_the_window_ends(
    loaded: Consumers, app_sign_in: AppSignIn, limits: Any, clock: list[datetime]
) -> None:
    limits(per_token=3)
    headers = app_sign_in.headers("RC1", "+919800000001")  # 12:00:00 UTC: 60 s left in the window
    client = app_sign_in.client
    assert [client.get("/api/v1/consumer/me", headers=headers).status_code for _ in range(3)] == [200] * 3
    clock[0] += timedelta(seconds=20)
    refused = client.get("/api/v1/consumer/RC1/consumption", headers=headers)
    assert refused.status_code == 429 and refused.get_json()["error"] == "rate_limited"
    assert refused.headers["Retry-After"] == "41"
    # Another consumer's token has its own count; the next window starts afresh.
    other = app_sign_in.headers("RC2", "+919800000002")
    assert client.get("/api/v1/consumer/me", headers=other).status_code == 200
    clock[0] += timedelta(seconds=40)
    assert client.get("/api/v1/consumer/me", headers=headers).status_code == 200


def test_sign_in_calls_from_one_address_are_limited(
    people: Consumers, app_sign_in: AppSignIn, limits: Any
) -> None:
    limits(sign_in_per_address=4)
    answers = [app_sign_in.request_code(f"NOSUCH{i}").status_code for i in range(4)]
    assert answers == [202] * 4
    refused = app_sign_in.sign_in("RC1", "123456")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_per_address_limit_covers_data_calls_too(
    loaded: Consumers, app_sign_in: AppSignIn, limits: Any
) -> None:
    headers = app_sign_in.headers("RC1", "+919800000001")
    limits(per_address=2)
    client = app_sign_in.client
    codes = [client.get("/api/v1/consumer/me", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_report_is_cached_per_consumer_and_day(
    loaded: Consumers, app_sign_in: AppSignIn, session: Any, clock: list[datetime]
) -> None:
    headers = app_sign_in.headers("RC1", "+919800000001")
    client = app_sign_in.client
    first = client.get("/api/v1/consumer/RC1/reports/last_7_days", headers=headers)
    again = client.get("/api/v1/consumer/RC1/reports/last_7_days", headers=headers)
    assert (first.headers["X-Cache"], again.headers["X-Cache"]) == ("miss", "hit")
    assert first.get_json() == again.get_json()
    # The cached answer is RC1's alone: RC2 gets its own numbers.
    other = app_sign_in.headers("RC2", "+919800000002")
    theirs = client.get("/api/v1/consumer/RC2/reports/last_7_days", headers=other)
    assert theirs.headers["X-Cache"] == "miss" and theirs.get_json()["buckets"] != first.get_json()["buckets"]
    # A new local day is a new answer.
    clock[0] += timedelta(hours=12)
    next_day = client.get(
        "/api/v1/consumer/RC1/reports/last_7_days", headers=app_sign_in.headers("RC1", "+919800000001")
    )
    assert next_day.headers["X-Cache"] == "miss" and next_day.get_json()["as_of"] == "2026-11-21"


def test_with_redis_down_the_api_answers_without_limits_or_cache(
    loaded: Consumers, app_sign_in: AppSignIn, app: Flask
) -> None:
    headers = app_sign_in.headers("RC1", "+919800000001")
    live = app.extensions["cmdms.redis"]
    app.extensions["cmdms.redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    try:
        answer = app_sign_in.client.get("/api/v1/consumer/RC1/reports/last_4_weeks", headers=headers)
    finally:
        app.extensions["cmdms.redis"] = live
    assert answer.status_code == 200 and answer.headers["X-Cache"] == "miss"
    assert len(answer.get_json()["buckets"]) == 4


def test_no_data_for_a_token_past_its_limit(
    loaded: Consumers, app_sign_in: AppSignIn, limits: Any, session: Any
) -> None:
    limits(per_token=1)
    headers = app_sign_in.headers("RC1", "+919800000001")
    client = app_sign_in.client
    assert client.get("/api/v1/consumer/me", headers=headers).status_code == 200
    refused = client.get("/api/v1/consumer/RC1/reports/last_7_days", headers=headers)
    assert refused.status_code == 429 and "buckets" not in refused.get_json()
    assert session.execute(text("SELECT count(*) FROM consumer_app_tokens")).scalar_one() == 1
