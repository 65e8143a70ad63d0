"""Consumer app sign-in: an OTP by SMS to the registered mobile (English or Hindi), a one-hour
hashed bearer token; expiry, attempts, the wrong consumer, issue limits and hostile input."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tests.consumers.conftest import AppSignIn
from tests.consumption.conftest import Consumers

RC1_MOBILE, RC2_MOBILE = "+919800000001", "+919800000002"


def test_code_by_sms_then_a_token_that_names_the_consumer(
    people: Consumers, app_sign_in: AppSignIn, session: Any
) -> None:
    answer = app_sign_in.request_code("RC1")
    assert answer.status_code == 202 and answer.get_json()["status"] == "sent_if_registered"
    code = app_sign_in.last_code(RC1_MOBILE)
    (body,) = [m["Body"] for m in app_sign_in.twilio.messages]
    assert (
        body
        == f"{code} is your code to sign in to the electricity app for IVRS RC1. Valid 5 minutes. Do not share it."
    )
    signed = app_sign_in.sign_in("RC1", code)
    assert signed.status_code == 201
    token = signed.get_json()["token"]
    assert signed.get_json()["expires_in"] == 3600 and signed.get_json()["ivrs"] == "RC1"
    me = app_sign_in.client.get("/api/v1/consumer/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.get_json()["ivrs"] == "RC1" and me.get_json()["mobile"] == "*********0001"
    # Only hashes are stored: neither the code nor the token is in the database.
    stored = session.execute(text("SELECT token_hash FROM consumer_app_tokens")).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    otp_hash = session.execute(text("SELECT code_hash FROM consumer_otps")).scalar_one()
    assert code not in otp_hash
    bodies = session.execute(text("SELECT body FROM notifications")).scalars().all()
    assert bodies and all(code not in b and "******" in b for b in bodies)


def test_a_hindi_speaking_consumer_gets_the_code_in_hindi(
    people: Consumers, app_sign_in: AppSignIn, session: Any
) -> None:
    session.execute(text("UPDATE consumers SET language = 'hi' WHERE ivrs_number = 'RC2'"))
    session.commit()
    app_sign_in.request_code("RC2")
    code = app_sign_in.last_code(RC2_MOBILE)
    body = app_sign_in.twilio.messages[-1]["Body"]
    assert body == f"{code} बिजली ऐप में IVRS RC2 से साइन-इन का आपका कोड है। 5 मिनट तक मान्य। किसी को न बताएं।"


def test_an_expired_code_is_refused(people: Consumers, app_sign_in: AppSignIn, clock: list[datetime]) -> None:
    app_sign_in.request_code("RC1")
    code = app_sign_in.last_code(RC1_MOBILE)
    clock[0] += timedelta(minutes=5)
    answer = app_sign_in.sign_in("RC1", code)
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "otp_expired"


def test_three_wrong_codes_lock_it_and_the_right_one_no_longer_works(
    people: Consumers, app_sign_in: AppSignIn, session: Any
) -> None:
    app_sign_in.request_code("RC1")
    code = app_sign_in.last_code(RC1_MOBILE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    left = [app_sign_in.sign_in("RC1", wrong).get_json() for _ in range(3)]
    assert [(a["error"], a["attempts_left"]) for a in left] == [
        ("otp_wrong", 2),
        ("otp_wrong", 1),
        ("otp_wrong", 0),
    ]
    answer = app_sign_in.sign_in("RC1", code)
    assert answer.status_code == 401 and answer.get_json()["error"] == "otp_attempts_exhausted"
    assert session.execute(text("SELECT count(*) FROM consumer_app_tokens")).scalar_one() == 0
    # A new code works again.
    app_sign_in.request_code("RC1")
    assert app_sign_in.sign_in("RC1", app_sign_in.last_code(RC1_MOBILE)).status_code == 201


def test_one_consumers_code_does_not_sign_in_another(
    people: Consumers, app_sign_in: AppSignIn, session: Any
) -> None:
    app_sign_in.request_code("RC1")
    code = app_sign_in.last_code(RC1_MOBILE)
    answer = app_sign_in.sign_in("RC2", code)
    assert answer.status_code == 401 and answer.get_json()["error"] == "otp_not_found"
    # RC2 asks for its own code: RC1's code still does not open RC2, and RC1's is untouched.
    app_sign_in.request_code("RC2")
    app_sign_in.last_code(RC2_MOBILE)
    assert app_sign_in.sign_in("RC2", code).get_json()["error"] == "otp_wrong"
    signed = app_sign_in.sign_in("RC1", code)
    assert signed.status_code == 201 and signed.get_json()["ivrs"] == "RC1"
    assert session.execute(text("SELECT count(*) FROM consumer_app_tokens")).scalar_one() == 1


def test_an_unknown_ivrs_or_one_without_a_mobile_gets_the_same_answer_and_no_sms(
    people: Consumers, app_sign_in: AppSignIn, session: Any
) -> None:
    session.execute(text("UPDATE consumers SET mobile = NULL WHERE ivrs_number = 'RC3'"))
    session.commit()
    known = app_sign_in.request_code("RC1")
    unknown = app_sign_in.request_code("NOSUCH1")
    no_mobile = app_sign_in.request_code("RC3")
    assert known.status_code == unknown.status_code == no_mobile.status_code == 202
    assert known.get_json() == unknown.get_json() == no_mobile.get_json()
    app_sign_in.run_jobs("urgent")
    assert [m["To"] for m in app_sign_in.twilio.messages] == [RC1_MOBILE]
    assert app_sign_in.sign_in("NOSUCH1", "123456").get_json()["error"] == "otp_not_found"


def test_a_fourth_code_in_fifteen_minutes_is_429_with_retry_after(
    people: Consumers, app_sign_in: AppSignIn, clock: list[datetime]
) -> None:
    for _ in range(3):
        assert app_sign_in.request_code("RC1").status_code == 202
        clock[0] += timedelta(minutes=1)
    refused = app_sign_in.request_code("RC1")
    assert refused.status_code == 429 and refused.get_json()["error"] == "otp_limit"
    assert refused.headers["Retry-After"] == str(
        12 * 60 + 1
    )  # the first of the three (3 minutes ago) ages out in 12
    # The last code issued still signs in.
    assert app_sign_in.sign_in("RC1", app_sign_in.last_code(RC1_MOBILE)).status_code == 201


def test_the_token_lasts_one_hour_and_sign_out_ends_it(
    people: Consumers, app_sign_in: AppSignIn, clock: list[datetime]
) -> None:
    headers = app_sign_in.headers("RC1", RC1_MOBILE)
    client = app_sign_in.client
    clock[0] += timedelta(minutes=59)
    assert client.get("/api/v1/consumer/me", headers=headers).status_code == 200
    clock[0] += timedelta(minutes=1)
    expired = client.get("/api/v1/consumer/me", headers=headers)
    assert expired.status_code == 401 and expired.get_json()["error"] == "invalid_token"
    clock[0] -= timedelta(minutes=30)
    assert client.delete("/api/v1/consumer/sessions/current", headers=headers).status_code == 204
    assert client.get("/api/v1/consumer/me", headers=headers).get_json()["error"] == "invalid_token"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "ivrs"),
        ({"ivrs": ""}, "ivrs"),
        ({"ivrs": "RC1' OR '1'='1"}, "ivrs"),
        ({"ivrs": "R" * 33}, "ivrs"),
        ({"ivrs": ["RC1"]}, "ivrs"),
        ({"ivrs": "RC1", "extra": 1}, "extra"),
    ],
)
def test_malformed_code_requests_are_422_naming_the_field(
    people: Consumers, app_sign_in: AppSignIn, session: Any, body: dict[str, Any], field: str
) -> None:
    answer = app_sign_in.client.post("/api/v1/consumer/otp", json=body)
    assert answer.status_code == 422
    assert field in answer.get_json()["errors"]["json"]
    assert session.execute(text("SELECT count(*) FROM consumer_otps")).scalar_one() == 0


@pytest.mark.parametrize("otp", ["12345", "1234567", "12a456", "", None, 123456])
def test_malformed_codes_are_422_and_use_no_attempt(
    people: Consumers, app_sign_in: AppSignIn, session: Any, otp: Any
) -> None:
    app_sign_in.request_code("RC1")
    answer = app_sign_in.client.post("/api/v1/consumer/sessions", json={"ivrs": "RC1", "otp": otp})
    assert answer.status_code == 422 and "otp" in answer.get_json()["errors"]["json"]
    assert session.execute(text("SELECT attempts FROM consumer_otps")).scalar_one() == 0


def test_a_body_that_is_not_json_is_refused(people: Consumers, app_sign_in: AppSignIn) -> None:
    answer = app_sign_in.client.post(
        "/api/v1/consumer/otp", data=b"\xff\xfe{", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code in (400, 422)
    assert "error" in answer.get_json()
