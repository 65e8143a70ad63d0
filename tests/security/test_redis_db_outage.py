"""Issue 20 item 17: with Redis unreachable, ingest and OTP requests answer 2xx after their
commit (the OTP goes out once the sweep runs, not twice); with the database down, requests answer
503 with Retry-After."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from service.config import Config
from tests.conftest import _csrf_from
from tests.security.test_drop_folder import closed_port


@pytest.fixture
def redis_down(app: Flask, test_config: Config) -> Iterator[Flask]:
    """The same database, a Redis URL on a closed loopback port (a real client, refused)."""
    from service import create_app

    down = create_app(test_config.with_(redis_url=f"redis://127.0.0.1:{closed_port()}/0"), **{
        name: port for name, port in app.extensions["cmdms.ports"].items() if port is not None
    })  # fmt: skip
    down.test_client_class = app.test_client_class
    yield down


def test_ingest_with_redis_unreachable_answers_200_and_the_batch_is_stored(
    redis_down: Flask, session: Any, grid: dict[str, int], make_api_key: Any
) -> None:
    headers = make_api_key("readings:write")
    body = {"message_id": "R-DOWN", "hes": "H", "readings": [
        {"meter": "M1", "profile": "block_load", "interval_minutes": 15,
         "values": [{"end": "2026-11-27T00:15:00+05:30", "kwh": 0.5}]}]}  # fmt: skip
    with redis_down.app_context():
        answer = redis_down.test_client().post(
            "/api/v1/hes/readings",
            data=json.dumps(body),
            headers={**headers, "Content-Type": "application/json"},
        )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["stored"] == 1
    session.expire_all()
    assert session.execute(text("SELECT count(*) FROM interval_readings")).scalar_one() == 1
    # Still `stored`: the periodic sweep queues it for VEE once Redis answers again.
    assert session.execute(text("SELECT status FROM ingest_batches")).scalar_one() == "stored"


def test_with_the_database_down_requests_answer_503_with_retry_after(test_config: Config, app: Flask) -> None:
    from service import create_app

    down = create_app(
        test_config.with_(database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/cmdms")
    )
    client = down.test_client()
    api = client.get("/api/v1/masterdata/consumers", headers={"Authorization": "Bearer cmdms_abc_def"})
    assert (api.status_code, api.headers["Retry-After"]) == (503, "30")
    assert api.get_json() == {
        "error": "database_unavailable",
        "message": "The database is unavailable; retry shortly.",
    }
    form = client.get("/login")
    assert form.status_code == 200  # the login page itself needs no database
    page = client.post(
        "/login",
        data={
            "username": "ee_east",
            "password": "whatever",
            "csrf_token": _csrf_from(form.get_data(as_text=True)),
        },
    )
    assert (page.status_code, page.headers["Retry-After"]) == (503, "30")
    assert page.get_data(as_text=True) == "The database is unavailable; retry shortly."
