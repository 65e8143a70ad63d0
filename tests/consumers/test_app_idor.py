"""Another consumer's data is never reachable: not by their IVRS number in the path, not with a
staff API key, not with a made-up or expired token. 404 as for an IVRS number that does not exist."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.consumers.conftest import AppSignIn
from tests.consumption.conftest import Consumers

PATHS = ["consumption", "reports/last_7_days", "reports/last_2_years"]


@pytest.mark.parametrize("path", PATHS)
def test_another_consumers_ivrs_is_404_exactly_as_an_unknown_one(
    loaded: Consumers, app_sign_in: AppSignIn, path: str
) -> None:
    headers = app_sign_in.headers("RC1", "+919800000001")
    client = app_sign_in.client
    own = client.get(f"/api/v1/consumer/RC1/{path}", headers=headers)
    assert own.status_code == 200 and own.get_json()["ivrs"] == "RC1"
    other = client.get(f"/api/v1/consumer/RC2/{path}", headers=headers)
    unknown = client.get(f"/api/v1/consumer/ZZ9/{path}", headers=headers)
    assert other.status_code == unknown.status_code == 404
    assert other.get_json()["error"] == unknown.get_json()["error"] == "unknown_consumer"
    assert "kwh" not in other.get_data(as_text=True)


def test_each_token_reaches_only_its_own_consumer(loaded: Consumers, app_sign_in: AppSignIn) -> None:
    rc1 = app_sign_in.headers("RC1", "+919800000001")
    rc2 = app_sign_in.headers("RC2", "+919800000002")
    client = app_sign_in.client
    a = client.get("/api/v1/consumer/RC1/reports/last_7_days", headers=rc1).get_json()
    b = client.get("/api/v1/consumer/RC2/reports/last_7_days", headers=rc2).get_json()
    assert a["buckets"] != b["buckets"]
    assert client.get("/api/v1/consumer/RC1/consumption", headers=rc2).status_code == 404
    assert client.get("/api/v1/consumer/RC2/consumption", headers=rc1).status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Basic cmMxOnh4", "Bearer cat_not-a-real-token", "Bearer " + "x" * 5000],
)
def test_without_a_valid_token_nothing_is_answered(
    loaded: Consumers, app_sign_in: AppSignIn, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = app_sign_in.client.get("/api/v1/consumer/RC1/consumption", headers=headers)
    assert answer.status_code == 401
    assert answer.get_json()["error"] in ("missing_credentials", "invalid_authorization", "invalid_token")


def test_a_staff_api_key_is_not_a_consumer_token_and_the_reverse(
    loaded: Consumers, app_sign_in: AppSignIn, make_api_key: Callable[..., dict[str, str]]
) -> None:
    key = make_api_key("notifications:read", "readings:read")
    client = app_sign_in.client
    answer = client.get("/api/v1/consumer/RC1/consumption", headers=key)
    assert answer.status_code == 401 and answer.get_json()["error"] == "invalid_token"
    token = app_sign_in.headers("RC1", "+919800000001")
    staff = client.get("/api/v1/notifications", headers=token)
    assert staff.status_code == 401 and staff.get_json()["error"] == "invalid_api_key"


def test_an_unknown_report_is_404(loaded: Consumers, app_sign_in: AppSignIn) -> None:
    headers = app_sign_in.headers("RC1", "+919800000001")
    answer: Any = app_sign_in.client.get("/api/v1/consumer/RC1/reports/everything", headers=headers)
    assert answer.status_code == 404 and answer.get_json()["error"] == "unknown_report"
