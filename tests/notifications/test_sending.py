"""The notification outbox end to end: notify -> commit -> real RQ worker -> real SDKs -> stand-ins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from service.notifications import jobs, notify
from service.notifications.models import DeviceToken, Notification, NotificationOptOut
from service.queues import get_queue

DAY = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # 11:30 in India: outside quiet hours
OUTAGE = {"area": "Arera Colony", "start": "10:00", "end": "14:00"}
DISCONNECTION = {"ivrs": "N000000001", "amount_inr": "2340.00", "due_date": "05-12-2026"}
TOKEN = "fcm-registration-token-0001-abcdefghijklmnop"


def row(session: Any, notification_id: int) -> Notification:
    session.expire_all()
    found = session.get(Notification, notification_id)
    assert found is not None
    return found


def test_notification_is_sent_by_the_worker_after_commit_through_twilio(
    session, wired, twilio, make_consumer, run_jobs
):
    consumer = make_consumer(language="en", mobile="9826012345")
    sent = notify(
        session, consumer_id=consumer, message_type="planned_outage", params=OUTAGE, dedupe_key="o:1", now=DAY
    )
    assert twilio.messages == []  # nothing leaves before the commit
    session.commit()
    run_jobs("default")

    n = row(session, sent.notification_id)
    assert (n.status, n.channel, n.provider, n.attempts) == ("sent", "sms", "twilio", 1)
    assert n.provider_id == twilio.messages[0]["sid"]
    assert twilio.messages[0]["To"] == "+919826012345"
    assert twilio.messages[0]["Body"].startswith("Planned power cut in Arera Colony from 10:00 to 14:00")
    assert twilio.messages[0]["StatusCallback"].endswith("/api/v1/notifications/twilio/status")


def test_rolled_back_business_event_sends_nothing(session, wired, twilio, make_consumer, run_jobs):
    consumer = make_consumer()
    session.commit()
    notify(
        session, consumer_id=consumer, message_type="planned_outage", params=OUTAGE, dedupe_key="o:1", now=DAY
    )
    session.rollback()
    run_jobs("default")
    assert twilio.messages == []
    assert session.scalar(select(Notification.id)) is None


def test_same_dedupe_key_gives_one_message(session, wired, twilio, make_consumer, run_jobs):
    consumer = make_consumer()
    first = notify(
        session,
        consumer_id=consumer,
        message_type="planned_outage",
        params=OUTAGE,
        dedupe_key="o:42",
        now=DAY,
    )
    session.commit()
    again = notify(
        session,
        consumer_id=consumer,
        message_type="planned_outage",
        params=OUTAGE,
        dedupe_key="o:42",
        now=DAY,
    )
    session.commit()
    run_jobs("default")
    assert first.created and not again.created
    assert again.notification_id == first.notification_id
    assert len(twilio.messages) == 1


def test_hindi_template_is_chosen_by_the_consumers_language(session, wired, twilio, make_consumer, run_jobs):
    consumer = make_consumer(language="hi")
    sent = notify(
        session, consumer_id=consumer, message_type="planned_outage", params=OUTAGE, dedupe_key="o:1", now=DAY
    )
    session.commit()
    run_jobs("default")
    n = row(session, sent.notification_id)
    assert n.language == "hi"
    assert (
        twilio.messages[0]["Body"]
        == "Arera Colony में 10:00 से 14:00 तक रखरखाव हेतु बिजली बंद रहेगी। असुविधा के लिए खेद है। -CMDMS"
    )
    assert n.sms_segments == 2  # UCS-2: 88 characters > 70


def test_provider_down_then_up_sends_the_message_exactly_once_later(
    session, wired, twilio, make_consumer, run_jobs
):
    consumer = make_consumer()
    twilio.down = True
    sent = notify(
        session,
        consumer_id=consumer,
        message_type="disconnection_notice",
        params=DISCONNECTION,
        dedupe_key="dn:1",
        now=DAY,
    )
    session.commit()
    run_jobs("urgent")
    n = row(session, sent.notification_id)
    assert (n.status, n.attempts, n.queue) == ("queued", 1, "urgent")
    assert "twilio_20503" in (n.error or "")
    retry_at = n.next_attempt_at
    assert retry_at > datetime.now(UTC)  # back-off, not at once

    assert jobs.sweep() == 0  # not due yet
    twilio.down = False
    assert jobs.sweep(as_of=retry_at.isoformat()) == 1
    run_jobs("urgent")
    assert jobs.sweep(as_of=(retry_at + timedelta(hours=2)).isoformat()) == 0
    run_jobs("urgent")

    n = row(session, sent.notification_id)
    assert (n.status, n.attempts) == ("sent", 2)
    assert len(twilio.messages) == 1
    assert twilio.requests == 2


def test_invalid_number_fails_permanently_without_retry(session, wired, twilio, make_consumer, run_jobs):
    consumer = make_consumer(mobile="9000000000")
    twilio.invalid_numbers.add("+919000000000")
    sent = notify(
        session,
        consumer_id=consumer,
        message_type="disconnection_notice",
        params=DISCONNECTION,
        dedupe_key="dn:1",
        now=DAY,
    )
    session.commit()
    run_jobs("urgent")
    n = row(session, sent.notification_id)
    assert (n.status, n.attempts) == ("failed", 1)
    assert n.error.startswith("sms: twilio_21211")
    assert jobs.sweep(as_of=(DAY + timedelta(days=2)).isoformat()) == 0
    assert twilio.requests == 1


def test_retries_stop_after_max_attempts(session, wired, twilio, make_consumer, run_jobs):
    consumer = make_consumer()
    twilio.down = True
    sent = notify(
        session,
        consumer_id=consumer,
        message_type="disconnection_notice",
        params=DISCONNECTION,
        dedupe_key="dn:1",
        now=DAY,
    )
    session.commit()
    run_jobs("urgent")
    for _ in range(5):
        n = row(session, sent.notification_id)
        jobs.sweep(as_of=n.next_attempt_at.isoformat())
        run_jobs("urgent")
    n = row(session, sent.notification_id)
    assert (n.status, n.attempts) == ("failed", n.max_attempts)
    assert twilio.requests == n.max_attempts


def test_informational_message_in_quiet_hours_waits_for_morning(
    session, wired, twilio, make_consumer, run_jobs
):
    consumer = make_consumer()
    night = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)  # 22:00 in India
    sent = notify(
        session,
        consumer_id=consumer,
        message_type="planned_outage",
        params=OUTAGE,
        dedupe_key="o:1",
        now=night,
    )
    session.commit()
    run_jobs("default")
    n = row(session, sent.notification_id)
    morning = datetime(2026, 11, 27, 2, 30, tzinfo=UTC)  # 08:00 in India
    assert (n.status, n.next_attempt_at) == ("queued", morning)
    assert twilio.messages == []

    assert jobs.sweep(as_of=(morning - timedelta(minutes=1)).isoformat()) == 0
    assert jobs.sweep(as_of=morning.isoformat()) == 1
    run_jobs("default")
    assert row(session, sent.notification_id).status == "sent"
    assert len(twilio.messages) == 1


def test_urgent_message_ignores_quiet_hours_and_uses_the_urgent_queue(
    session, wired, twilio, make_consumer, run_jobs
):
    consumer = make_consumer()
    night = datetime(2026, 11, 26, 17, 30, tzinfo=UTC)  # 23:00 in India
    sent = notify(
        session,
        consumer_id=consumer,
        message_type="disconnection_notice",
        params=DISCONNECTION,
        dedupe_key="dn:1",
        now=night,
    )
    session.commit()
    assert get_queue("urgent").count == 1 and get_queue("default").count == 0
    run_jobs("urgent")
    assert row(session, sent.notification_id).status == "sent"


def _device(session: Any, consumer_id: int, token: str = TOKEN) -> int:
    device = DeviceToken(consumer_id=consumer_id, token=token, platform="android")
    session.add(device)
    session.flush()
    return int(device.id)


def test_push_goes_to_the_consumers_app_first(session, wired, twilio, fcm, make_consumer, run_jobs):
    consumer = make_consumer()
    _device(session, consumer)
    sent = notify(
        session, consumer_id=consumer, message_type="planned_outage", params=OUTAGE, dedupe_key="o:1", now=DAY
    )
    session.commit()
    run_jobs("default")
    n = row(session, sent.notification_id)
    assert (n.status, n.channel, n.provider) == ("sent", "push", "fcm")
    assert n.provider_id == fcm.messages[0]["name"]
    assert fcm.messages[0]["token"] == TOKEN
    assert fcm.messages[0]["notification"]["title"] == "Planned power cut"
    assert twilio.messages == []


def test_unregistered_token_is_retired_and_the_message_falls_back_to_sms(
    session, wired, twilio, fcm, make_consumer, run_jobs
):
    consumer = make_consumer()
    device_id = _device(session, consumer)
    fcm.unregistered_tokens.add(TOKEN)
    sent = notify(
        session, consumer_id=consumer, message_type="planned_outage", params=OUTAGE, dedupe_key="o:1", now=DAY
    )
    session.commit()
    run_jobs("default")
    n = row(session, sent.notification_id)
    assert (n.status, n.channel, n.provider) == ("sent", "sms", "twilio")
    assert "UNREGISTERED" in n.error
    device = session.get(DeviceToken, device_id)
    assert device.retired_at is not None and device.retired_reason == "UNREGISTERED"
    assert len(twilio.messages) == 1


def test_invalid_token_is_retired_and_a_valid_one_of_the_same_consumer_used(
    session, wired, twilio, fcm, make_consumer, run_jobs
):
    consumer = make_consumer()
    good = _device(session, consumer, TOKEN)
    bad = _device(session, consumer, "bad-token-xxxxxxxxxxxxxxxxxxxxx")
    fcm.invalid_tokens.add("bad-token-xxxxxxxxxxxxxxxxxxxxx")
    sent = notify(
        session, consumer_id=consumer, message_type="planned_outage", params=OUTAGE, dedupe_key="o:1", now=DAY
    )
    session.commit()
    run_jobs("default")
    n = row(session, sent.notification_id)
    assert (n.channel, n.device_token_id) == ("push", good)
    assert session.get(DeviceToken, bad).retired_reason == "INVALID_ARGUMENT"
    assert session.get(DeviceToken, good).retired_at is None


def test_push_service_down_falls_back_to_sms_at_once(session, wired, twilio, fcm, make_consumer, run_jobs):
    consumer = make_consumer()
    device_id = _device(session, consumer)
    fcm.down = True
    sent = notify(
        session, consumer_id=consumer, message_type="planned_outage", params=OUTAGE, dedupe_key="o:1", now=DAY
    )
    session.commit()
    run_jobs("default")
    n = row(session, sent.notification_id)
    assert (n.status, n.channel) == ("sent", "sms")
    assert session.get(DeviceToken, device_id).retired_at is None  # the token was not at fault


def test_opted_out_consumer_gets_mandatory_but_not_informational_messages(
    session, wired, twilio, make_consumer, run_jobs
):
    consumer = make_consumer()
    session.add(NotificationOptOut(consumer_id=consumer, source="ccc"))
    info = notify(
        session, consumer_id=consumer, message_type="planned_outage", params=OUTAGE, dedupe_key="o:1", now=DAY
    )
    must = notify(
        session,
        consumer_id=consumer,
        message_type="disconnection_notice",
        params=DISCONNECTION,
        dedupe_key="dn:1",
        now=DAY,
    )
    session.commit()
    run_jobs("default", "urgent")
    assert (row(session, info.notification_id).status, row(session, info.notification_id).error) == (
        "suppressed",
        "opted_out",
    )
    assert row(session, must.notification_id).status == "sent"
    assert len(twilio.messages) == 1


def test_informational_messages_over_the_hourly_limit_are_suppressed_with_reason(
    session, wired, make_consumer
):
    consumer = make_consumer()
    limit = wired.policy.informational_per_hour
    results = [
        notify(
            session,
            consumer_id=consumer,
            message_type="planned_outage",
            params=OUTAGE,
            dedupe_key=f"o:{i}",
            now=DAY,
        )
        for i in range(limit + 1)
    ]
    assert [r.status for r in results] == ["queued"] * limit + ["suppressed"]
    assert row(session, results[-1].notification_id).error.startswith("rate_limited")


def test_consumer_without_mobile_or_app_fails_at_once_with_reason(session, wired, make_consumer):
    consumer = make_consumer(mobile=None)
    sent = notify(
        session, consumer_id=consumer, message_type="planned_outage", params=OUTAGE, dedupe_key="o:1", now=DAY
    )
    n = row(session, sent.notification_id)
    assert (n.status, n.error.split(":")[0]) == ("failed", "no_contact")


def test_two_jobs_for_one_row_send_it_once(session, wired, twilio, make_consumer, run_jobs):
    consumer = make_consumer()
    sent = notify(
        session, consumer_id=consumer, message_type="planned_outage", params=OUTAGE, dedupe_key="o:1", now=DAY
    )
    session.commit()
    get_queue("default").enqueue(jobs.send_notification, sent.notification_id)  # a duplicate enqueue
    run_jobs("default")
    assert len(twilio.messages) == 1
    assert row(session, sent.notification_id).attempts == 1


def test_a_redis_flush_loses_nothing_the_sweep_enqueues_again(
    session, wired, twilio, make_consumer, run_jobs, redis
):
    consumer = make_consumer()
    sent = notify(
        session, consumer_id=consumer, message_type="planned_outage", params=OUTAGE, dedupe_key="o:1", now=DAY
    )
    session.commit()
    redis.flushdb()  # Redis restarted without its data: the enqueued job is gone
    assert run_jobs("default") == 0
    assert jobs.sweep() == 1
    run_jobs("default")
    assert row(session, sent.notification_id).status == "sent"
    assert len(twilio.messages) == 1


def test_row_stuck_in_sending_is_closed_as_outcome_unknown_and_not_resent(
    session, wired, twilio, make_consumer, run_jobs
):
    consumer = make_consumer()
    sent = notify(
        session, consumer_id=consumer, message_type="planned_outage", params=OUTAGE, dedupe_key="o:1", now=DAY
    )
    n = row(session, sent.notification_id)
    n.status, n.claimed_at, n.attempts = "sending", datetime.now(UTC) - timedelta(minutes=11), 1
    session.commit()
    get_queue("default").empty()
    assert jobs.sweep() == 0
    run_jobs("default")
    n = row(session, sent.notification_id)
    assert n.status == "failed" and n.error.startswith("outcome_unknown")
    assert twilio.messages == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"message_type": "no_such_type", "params": {}}, "unknown message type 'no_such_type'"),
        ({"message_type": "planned_outage", "params": {"area": "x"}}, "planned_outage.params.start: missing"),
        (
            {"message_type": "planned_outage", "params": {**OUTAGE, "area": "x" * 41}},
            "planned_outage.params.area: longer than 40 characters",
        ),
        (
            {"message_type": "planned_outage", "params": {**OUTAGE, "colour": "red"}},
            "planned_outage.params.colour: unknown parameter",
        ),
    ],
)
def test_bad_message_is_refused_naming_the_field(session, wired, make_consumer, kwargs, message):
    consumer = make_consumer()
    with pytest.raises(ValueError) as caught:
        notify(session, consumer_id=consumer, dedupe_key="x", now=DAY, **kwargs)
    assert str(caught.value) == message
    assert session.scalar(select(Notification.id)) is None


def test_unknown_recipient_is_refused(session, wired):
    with pytest.raises(ValueError, match="unknown consumer 999999"):
        notify(
            session, consumer_id=999999, message_type="planned_outage", params=OUTAGE, dedupe_key="x", now=DAY
        )
    with pytest.raises(ValueError, match="exactly one of consumer_id and user_id"):
        notify(session, message_type="planned_outage", params=OUTAGE, dedupe_key="x", now=DAY)
