"""Staff OTPs: six digits, hashed, 5 minutes, 3 attempts, one purpose and object, one use."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from service.notifications import otp
from service.notifications.models import Notification, StaffOtp

T0 = datetime.now(UTC)


def _code(twilio: Any) -> str:
    match = re.match(r"^(\d{6}) is your CMDMS OTP", twilio.messages[-1]["Body"])
    assert match, twilio.messages[-1]["Body"]
    return match.group(1)


def _issue(
    session: Any, user_id: int, run_jobs: Any, purpose: str = "disconnection_batch", obj: str = "42"
) -> Any:
    issued = otp.issue(session, user_id=user_id, purpose=purpose, object_key=obj, now=T0)
    session.commit()
    run_jobs("urgent")
    return issued


def test_otp_goes_by_sms_on_the_urgent_queue_and_only_its_hash_is_stored(
    session, wired, twilio, make_user, run_jobs
):
    user = make_user(mobile="9826099999")
    issued = _issue(session, user, run_jobs)
    code = _code(twilio)
    assert twilio.messages[-1]["To"] == "+919826099999"
    assert "disconnection batch 42" in twilio.messages[-1]["Body"]
    stored = session.get(StaffOtp, issued.otp_id)
    notification = session.get(Notification, issued.notification_id)
    assert (notification.queue, notification.status) == ("urgent", "sent")
    assert stored.expires_at == T0 + timedelta(minutes=5)
    assert re.fullmatch(r"[0-9a-f]{64}", stored.code_hash)
    for text in (
        stored.code_hash,
        notification.body,
        str(notification.params),
        str(notification.sealed_params),
    ):
        assert code not in text
    assert notification.body.startswith("****** is your CMDMS OTP")


def test_right_code_is_ok_once_and_cannot_be_reused(session, wired, twilio, make_user, run_jobs):
    user = make_user()
    _issue(session, user, run_jobs)
    code = _code(twilio)
    kwargs = dict(user_id=user, purpose="disconnection_batch", object_key="42", code=code)
    assert otp.verify(session, now=T0 + timedelta(minutes=1), **kwargs).reason == "ok"
    session.commit()
    assert otp.verify(session, now=T0 + timedelta(minutes=1), **kwargs).reason == "used"


def test_wrong_code_is_refused_and_counts_an_attempt(session, wired, twilio, make_user, run_jobs):
    user = make_user()
    _issue(session, user, run_jobs)
    wrong = f"{(int(_code(twilio)) + 1) % 1_000_000:06d}"
    result = otp.verify(
        session, user_id=user, purpose="disconnection_batch", object_key="42", code=wrong, now=T0
    )
    assert (result.reason, result.attempts_left) == ("wrong", 2)


def test_three_wrong_codes_exhaust_the_otp_even_for_the_right_code(
    session, wired, twilio, make_user, run_jobs
):
    user = make_user()
    _issue(session, user, run_jobs)
    code = _code(twilio)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    kwargs = dict(user_id=user, purpose="disconnection_batch", object_key="42", now=T0)
    reasons = [otp.verify(session, code=wrong, **kwargs).reason for _ in range(3)]
    session.commit()
    assert reasons == ["wrong", "wrong", "wrong"]
    assert otp.verify(session, code=code, **kwargs).reason == "attempts_exhausted"


def test_otp_expires_after_five_minutes(session, wired, twilio, make_user, run_jobs):
    user = make_user()
    _issue(session, user, run_jobs)
    code = _code(twilio)
    kwargs = dict(user_id=user, purpose="disconnection_batch", object_key="42", code=code)
    assert otp.verify(session, now=T0 + timedelta(minutes=5), **kwargs).reason == "expired"
    assert otp.verify(session, now=T0 + timedelta(minutes=4, seconds=59), **kwargs).reason == "ok"


def test_otp_is_bound_to_its_purpose_and_object(session, wired, twilio, make_user, run_jobs):
    user = make_user()
    _issue(session, user, run_jobs)
    code = _code(twilio)
    other_object = otp.verify(
        session, user_id=user, purpose="disconnection_batch", object_key="43", code=code, now=T0
    )
    other_purpose = otp.verify(
        session, user_id=user, purpose="meter_replacement", object_key="42", code=code, now=T0
    )
    assert (other_object.reason, other_purpose.reason) == ("wrong_purpose", "wrong_purpose")


def test_a_new_otp_for_the_same_object_supersedes_the_old_one(session, wired, twilio, make_user, run_jobs):
    user = make_user()
    first = _issue(session, user, run_jobs)
    old_code = _code(twilio)
    _issue(session, user, run_jobs)
    new_code = _code(twilio)
    assert session.get(StaffOtp, first.otp_id).status == "superseded"
    kwargs = dict(user_id=user, purpose="disconnection_batch", object_key="42", now=T0)
    if old_code != new_code:
        assert otp.verify(session, code=old_code, **kwargs).reason == "wrong"
    assert otp.verify(session, code=new_code, **kwargs).reason == "ok"


def test_verify_without_any_otp_is_not_found(session, wired, make_user):
    user = make_user()
    result = otp.verify(session, user_id=user, purpose="x", object_key="1", code="123456")
    assert result.reason == "not_found"


def test_otp_api_issues_and_verifies_for_the_logged_in_staff_member(
    app, client, session, wired, twilio, demo, login, run_jobs
):
    login("control")
    reply = client.post("/api/v1/otp", json={"purpose": "disconnection_batch", "object": "7"})
    assert reply.status_code == 201, reply.get_json()
    with app.app_context():  # a worker has its own context (and session), as in production
        run_jobs("urgent")
    code = _code(twilio)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = client.post(
        "/api/v1/otp/verify", json={"purpose": "disconnection_batch", "object": "7", "code": wrong}
    )
    assert refused.status_code == 403
    assert refused.get_json() | {"message": ""} == {
        "error": "otp_wrong",
        "reason": "wrong",
        "attempts_left": 2,
        "message": "",
    }
    accepted = client.post(
        "/api/v1/otp/verify", json={"purpose": "disconnection_batch", "object": "7", "code": code}
    )
    assert accepted.status_code == 200 and accepted.get_json() == {"verified": True, "reason": "ok"}
    assert session.scalar(select(StaffOtp.status)) == "used"


def test_otp_api_rejects_malformed_input_with_field_errors(client, wired, demo, login):
    login("control")
    reply = client.post("/api/v1/otp/verify", json={"purpose": "a b", "object": "7", "code": "12ab"})
    assert reply.status_code == 422
    errors = reply.get_json()["errors"]["json"]
    assert set(errors) == {"purpose", "code"}


def test_otp_api_is_for_people_not_api_keys(client, wired, make_api_key):
    headers = make_api_key("notifications:write")
    reply = client.post("/api/v1/otp", json={"purpose": "x", "object": "1"}, headers=headers)
    assert reply.status_code == 403
    assert reply.get_json()["error"] == "person_required"
