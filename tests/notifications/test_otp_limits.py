"""Issue 20 item 13: OTP issues are limited per user and object in a window (429 with
Retry-After, audited), and the sealed code is dropped once the SMS is sent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.audit.models import AuditEntry
from service.notifications.models import Notification, StaffOtp


def test_a_fourth_otp_for_one_object_within_the_window_is_refused_and_not_sent(
    session: Any, wired: Any, twilio: Any, make_user: Any, run_jobs: Any, login: Any
) -> None:
    user_id = make_user(mobile="9826099999")
    session.commit()
    client = login("control1", "long-enough-password")
    body = {"purpose": "disconnection_batch", "object": "42"}
    answers = [client.post("/api/v1/otp", json=body) for _ in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    refused = answers[-1]
    assert refused.get_json()["error"] == "otp_limit"
    assert refused.get_json()["message"] == (
        "3 codes for this disconnection batch in 15 minutes; use the last one or wait."
    )
    assert 1 <= int(refused.headers["Retry-After"]) <= 15 * 60
    other = client.post("/api/v1/otp", json={"purpose": "disconnection_batch", "object": "43"})
    assert other.status_code == 201  # another object has its own allowance
    run_jobs("urgent")
    assert len(twilio.messages) == 4
    session.expire_all()
    assert session.scalar(select(func.count(StaffOtp.id)).where(StaffOtp.user_id == user_id)) == 4
    assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "otp_refused")) == 1


def test_the_sealed_code_is_dropped_from_the_notification_once_sent(
    session: Any, wired: Any, twilio: Any, make_user: Any, run_jobs: Any, login: Any
) -> None:
    make_user(mobile="9826099999")
    session.commit()
    client = login("control1", "long-enough-password")
    issued = client.post("/api/v1/otp", json={"purpose": "disconnection_batch", "object": "7"})
    notification_id = issued.get_json()["notification_id"]
    session.expire_all()
    assert session.get(Notification, notification_id).sealed_params is not None  # queued: needed to send
    run_jobs("urgent")
    session.expire_all()
    sent = session.get(Notification, notification_id)
    assert (sent.status, sent.sealed_params) == ("sent", None)
    assert len(twilio.messages) == 1 and "is your CMDMS OTP" in twilio.messages[0]["Body"]
