"""Issue 20 item 17 (OTP): with Redis unreachable an OTP request answers 201 after its commit,
and the SMS goes out once when the sweep runs (a retry by the user is not needed)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from tests.conftest import _csrf_from
from tests.security.test_redis_db_outage import redis_down

__all__ = ["redis_down"]


def test_an_otp_request_with_redis_unreachable_answers_201_and_the_sms_goes_out_once(
    redis_down: Flask, app: Flask, session: Any, wired: Any, twilio: Any, make_user: Any, run_jobs: Any
) -> None:
    from service.notifications.jobs import sweep
    from service.notifications.models import Notification

    make_user(mobile="9826099999")
    session.commit()
    client = redis_down.test_client()
    with redis_down.app_context():
        page = client.get("/login")
        client.post(
            "/login",
            data={"username": "control1", "password": "long-enough-password",
                  "csrf_token": _csrf_from(page.get_data(as_text=True))},
        )  # fmt: skip
        answer = client.post("/api/v1/otp", json={"purpose": "disconnection_batch", "object": "42"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(func.count(Notification.id))) == 1
    assert twilio.messages == []
    with app.app_context():
        sweep()
    run_jobs("urgent")
    with app.app_context():
        sweep()  # a second sweep finds nothing due: no second SMS
    run_jobs("urgent")
    assert len(twilio.messages) == 1
