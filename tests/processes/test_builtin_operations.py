"""Every built-in service-task operation executed: notify.sms through the notifications area
(template, opt-out, quiet hours, a notification row) and hes.disconnect through the HES port.
billing.post runs against the billing stand-in in test_runtime.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from notifications.channels import ProviderReceipt
from service.extensions import db
from service.masterdata.models import Consumer
from service.notifications.engine import NotificationEngine, engine_of
from service.notifications.models import Notification, NotificationOptOut
from service.outbox.models import OutboxItem
from service.ports import KEY as ADAPTERS
from service.ports import adapters_of
from service.processes.operations import SERVICE_OPERATIONS
from tests.processes.helpers import open_items, start

NOTICE = {"area": "Arera Colony feeder 11", "start": "10:00 tomorrow", "end": "14:00"}


class RecordingSms:
    """A hand-written fake of our SMS port: records what it was asked to send."""

    name = "recording"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str, template_id: str) -> ProviderReceipt:
        self.sent.append((to, text))
        return ProviderReceipt(provider="recording", provider_id=f"r-{len(self.sent)}", status="sent")


class RecordingHes:
    """A hand-written HesClient (the `hes` port is a factory: HES system -> client)."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, str]] = []

    def __call__(self, system: Any) -> RecordingHes:
        return self

    def send(self, command: Any) -> Any:
        from integrations.hes.commands import Sent

        self.commands.append((command.meter, command.command_id))
        return Sent(command.command_id, b"{}", "application/json", 202, b"{}")


@pytest.fixture
def sms(app: Flask) -> Iterator[RecordingSms]:
    engine: NotificationEngine = engine_of(app)
    saved = replace(engine)
    engine.sms = fake = RecordingSms()
    # No quiet hours unless a test sets them: the operation stamps messages with the wall clock,
    # and at night in IST they would otherwise wait (the result must not depend on the hour).
    engine.policy = replace(engine.policy, quiet_start=time(0, 0), quiet_end=time(0, 0))
    yield fake
    engine.sms, engine.policy = saved.sms, saved.policy


def _consumer() -> tuple[int, str]:
    found = db.session.execute(
        select(Consumer.id, Consumer.mobile).where(Consumer.mobile.is_not(None)).order_by(Consumer.id)
    ).first()
    assert found is not None
    return int(found.id), str(found.mobile)


def _notify(consumer_id: int, message_type: str = "planned_outage") -> int:
    return start(
        "notify_consumer", {"consumer_id": consumer_id, "message_type": message_type, "notice": NOTICE}
    )


def test_notify_sms_in_a_process_writes_a_notification_from_its_template_and_it_is_sent(
    processes_app: Any, discom: Any, sms: RecordingSms, drain: Any, run_jobs: Any
) -> None:
    consumer_id, mobile = _consumer()
    instance_id = _notify(consumer_id)
    drain()
    run_jobs("default", "urgent")
    [row] = db.session.scalars(select(Notification)).all()
    assert (row.consumer_id, row.message_type, row.status) == (consumer_id, "planned_outage", "sent")
    assert row.dedupe_key.startswith(f"wf:{instance_id}:")
    assert sms.sent == [(mobile, row.body)] and "Arera Colony feeder 11" in row.body
    [item] = db.session.scalars(select(OutboxItem)).all()
    assert item.result == {"notification_id": row.id, "status": "queued"}  # the task's result
    assert [w.bpmn_id for w in open_items(instance_id)] == ["check"]  # the process moved on


def test_notify_sms_in_a_process_respects_opt_out(
    processes_app: Any, discom: Any, sms: RecordingSms, drain: Any, run_jobs: Any
) -> None:
    consumer_id, _ = _consumer()
    db.session.add(NotificationOptOut(consumer_id=consumer_id))
    db.session.commit()
    _notify(consumer_id)
    drain()
    run_jobs("default", "urgent")
    [row] = db.session.scalars(select(Notification)).all()
    assert (row.status, row.error) == ("suppressed", "opted_out") and sms.sent == []


def test_notify_sms_in_a_process_holds_an_informational_notice_in_quiet_hours(
    app: Flask, processes_app: Any, discom: Any, sms: RecordingSms, drain: Any, run_jobs: Any
) -> None:
    engine = engine_of(app)
    # Quiet all day (to the last microsecond), so the wall clock's hour does not matter.
    engine.policy = replace(engine.policy, quiet_start=time(0, 0), quiet_end=time(23, 59, 59, 999999))
    before = datetime.now(UTC)
    _notify(_consumer()[0])
    drain()
    run_jobs("default", "urgent")
    [row] = db.session.scalars(select(Notification)).all()
    assert row.status == "queued" and row.next_attempt_at > before and sms.sent == []


def test_hes_disconnect_in_a_process_sends_the_command_through_the_hes_port(
    app: Flask, processes_app: Any, drain: Any
) -> None:
    from service.commands.issuing import upsert_hes_system
    from service.commands.models import HesCommand
    from service.masterdata.models import Meter, OrgUnit

    unit = OrgUnit(code="HT1", name="HES test", level="discom", path="/HT1/")
    db.session.add(unit)
    db.session.flush()
    db.session.add(Meter(serial_number="S00000201", make="Genus", meter_class="smart_1ph", hes_code="HES-T",
                         org_unit_id=unit.id))  # fmt: skip
    upsert_hes_system(db.session, "HES-T", base_url="http://127.0.0.1:9", wire_form="json")
    db.session.commit()
    saved, hes = adapters_of(app), RecordingHes()
    app.extensions[ADAPTERS] = replace(saved, hes_for=hes)
    try:
        instance_id = start("disconnect_meter", {"meter": "S00000201"})
        drain()
        assert hes.commands == [("S00000201", hes.commands[0][1])]
        assert hes.commands[0][1].startswith(f"cmdms-wf-{instance_id}-")
        assert [w.bpmn_id for w in open_items(instance_id)] == ["check"]
        command = db.session.scalars(select(HesCommand)).one()
        assert (command.command_id, command.state) == (hes.commands[0][1], "acknowledged")
    finally:
        app.extensions[ADAPTERS] = saved


def test_every_built_in_operation_has_a_test() -> None:
    # disconnection.send / reconnection.send: tests/disconnections/test_disconnect_flow.py
    # replacement.commission / replacement.switch: tests/assets/test_smart_replacement.py
    # atr.record_action / atr.escalate / atr.replace_meter: tests/revenue/test_cases.py
    # outages.planned_notice: tests/outages/test_planned.py
    # prepaid.reconnect_if_due / prepaid.recharge_notice: tests/prepaid/test_topup.py
    assert set(SERVICE_OPERATIONS) - {"test.flaky"} == {
        "billing.post", "notify.sms", "hes.disconnect", "disconnection.send", "reconnection.send",
        "replacement.commission", "replacement.switch", "atr.record_action", "atr.escalate",
        "atr.replace_meter", "outages.planned_notice", "prepaid.reconnect_if_due", "prepaid.recharge_notice",
    }  # fmt: skip
