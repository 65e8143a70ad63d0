"""Outbox operations notify.sms / notify.push (BPMN service tasks) and the demo step."""

from __future__ import annotations

from sqlalchemy import select

from service.notifications.models import Notification
from service.outbox import outbox
from service.outbox.models import OutboxItem


def test_notify_sms_operation_writes_one_notification_and_it_is_sent(
    session, wired, twilio, make_consumer, run_jobs
):
    consumer = make_consumer()
    params = {"ivrs": "N1", "amount_inr": "100.00", "due_date": "05-12-2026"}
    payload = {"consumer_id": consumer, "message_type": "disconnection_notice", "params": params}
    item_id = outbox.add(session, "notify.sms", payload, dedupe_key="wf:1:notice")
    session.commit()
    run_jobs("default")  # the outbox item; it writes the notification
    run_jobs("urgent")  # which is sent on the urgent queue
    item = session.get(OutboxItem, item_id)
    notification = session.scalars(select(Notification)).one()
    assert item.status == "done"
    assert item.result == {"notification_id": notification.id, "status": "queued"}
    assert (notification.dedupe_key, notification.channels, notification.status) == (
        f"outbox:{item_id}",
        "sms",
        "sent",
    )
    assert len(twilio.messages) == 1


def test_notify_operation_with_bad_params_fails_permanently_naming_the_param(
    session, wired, make_consumer, run_jobs
):
    consumer = make_consumer()
    item_id = outbox.add(
        session,
        "notify.push",
        {"consumer_id": consumer, "message_type": "reconnection", "params": {"ivrs": "N1"}},
    )
    session.commit()
    run_jobs("default")
    item = session.get(OutboxItem, item_id)
    assert (item.status, item.attempts) == ("failed", 1)
    assert item.last_error == "PermanentError: reconnection.params.time: missing"
    assert session.scalar(select(Notification.id)) is None


def test_demo_seeds_notices_that_go_out_through_the_console_channel(app, session, engine, demo, run_jobs):
    from notifications.console import ConsoleSms

    console = ConsoleSms()
    engine.sms = console
    with app.app_context():
        run_jobs("default", "urgent")
    rows = session.scalars(select(Notification)).all()
    assert len(rows) == 6
    assert {n.status for n in rows} == {"sent"}
    assert {n.provider for n in rows} == {"console"}
    assert len(console.sent) == 6


def test_demo_seeded_before_six_utc_queues_notices_due_at_once(app, session, engine, run_jobs):
    from datetime import UTC, datetime

    from notifications.console import ConsoleSms
    from service.demo.seed import seed_demo

    clock = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 08:30 IST: before the sample time of 06:00 UTC
    console = ConsoleSms()
    engine.sms = console
    seed_demo(session, consumers=60, seed=7, now=clock)
    session.commit()
    rows = session.scalars(select(Notification)).all()
    assert len(rows) == 6
    assert all(n.next_attempt_at <= clock for n in rows), [n.next_attempt_at for n in rows]
    run_jobs("default", "urgent")
    session.expire_all()
    assert {n.status for n in session.scalars(select(Notification))} == {"sent"}
    assert len(console.sent) == 6
