"""Twilio delivery status callbacks: signed with X-Twilio-Signature, moving the row to delivered/failed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from twilio.request_validator import RequestValidator

from service.notifications import notify
from service.notifications.models import Notification
from tests.notifications.conftest import AUTH_TOKEN

URL = "http://127.0.0.1:5000/api/v1/notifications/twilio/status"  # config.public_base_url + path
DAY = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
PATH = "/api/v1/notifications/twilio/status"


def _sent(session: Any, make_consumer: Any, run_jobs: Any) -> Notification:
    consumer = make_consumer()
    sent = notify(
        session,
        consumer_id=consumer,
        message_type="planned_outage",
        params={"area": "Kolar", "start": "10:00", "end": "12:00"},
        dedupe_key="o:1",
        now=DAY,
    )
    session.commit()
    run_jobs("default")
    session.expire_all()
    n = session.get(Notification, sent.notification_id)
    assert n is not None and n.status == "sent"
    return n


def _post(client: Any, params: dict[str, str], token: str = AUTH_TOKEN) -> Any:
    signature = RequestValidator(token).compute_signature(URL, params)
    return client.post(PATH, data=params, headers={"X-Twilio-Signature": signature})


def test_signed_delivered_callback_marks_the_notification_delivered(
    client, session, wired, twilio, make_consumer, run_jobs
):
    n = _sent(session, make_consumer, run_jobs)
    reply = _post(client, {"MessageSid": n.provider_id, "MessageStatus": "delivered", "AccountSid": "AC1"})
    assert reply.status_code == 200
    assert reply.get_json() == {"notification_id": n.id, "status": "delivered"}
    session.expire_all()
    n = session.get(Notification, n.id)
    assert (n.status, n.provider_status) == ("delivered", "delivered")
    assert n.delivered_at is not None


def test_undelivered_callback_marks_it_failed_with_the_twilio_error_code(
    client, session, wired, twilio, make_consumer, run_jobs
):
    n = _sent(session, make_consumer, run_jobs)
    reply = _post(client, {"MessageSid": n.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30005"})
    assert reply.status_code == 200
    session.expire_all()
    n = session.get(Notification, n.id)
    assert (n.status, n.error) == ("failed", "twilio_30005: undelivered")


def test_forged_signature_is_refused_and_changes_nothing(
    client, session, wired, twilio, make_consumer, run_jobs
):
    n = _sent(session, make_consumer, run_jobs)
    params = {"MessageSid": n.provider_id, "MessageStatus": "failed"}
    reply = _post(client, params, token="not-the-auth-token")
    assert reply.status_code == 403
    assert reply.get_json()["error"] == "invalid_signature"
    unsigned = client.post(PATH, data=params)
    assert unsigned.status_code == 403
    session.expire_all()
    assert session.get(Notification, n.id).status == "sent"


def test_signature_over_other_parameters_is_refused(client, session, wired, twilio, make_consumer, run_jobs):
    n = _sent(session, make_consumer, run_jobs)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        URL, {"MessageSid": n.provider_id, "MessageStatus": "sent"}
    )
    reply = client.post(
        PATH,
        data={"MessageSid": n.provider_id, "MessageStatus": "delivered"},
        headers={"X-Twilio-Signature": signature},
    )
    assert reply.status_code == 403


def test_late_sent_callback_does_not_move_a_delivered_message_back(
    client, session, wired, twilio, make_consumer, run_jobs
):
    n = _sent(session, make_consumer, run_jobs)
    _post(client, {"MessageSid": n.provider_id, "MessageStatus": "delivered"})
    _post(client, {"MessageSid": n.provider_id, "MessageStatus": "failed"})
    session.expire_all()
    assert session.get(Notification, n.id).status == "delivered"


def test_callback_for_an_unknown_message_is_404_naming_the_field(client, wired):
    reply = _post(client, {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"})
    assert reply.status_code == 404
    assert reply.get_json()["error"] == "unknown_message"
    assert reply.get_json()["field"] == "MessageSid"


def test_callback_without_status_is_400(client, wired):
    reply = _post(client, {"MessageSid": "SM123"})
    assert reply.status_code == 400
    assert reply.get_json()["error"] == "invalid_callback"
