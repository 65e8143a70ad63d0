"""Starts and completions written in one statement keep every row the ORM path wrote."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from service.audit.models import AuditEntry
from service.extensions import db
from service.outbox.models import OutboxItem
from service.processes import queue
from service.processes.library import workflows
from service.processes.models import ProcessEvent, ProcessInstance, ProcessTimer, WorkItem
from service.processes.runtime import ProcessConflict, StartRequest, start_instance
from tests.processes.helpers import TEST_ACTOR, inspection_data, instance, open_items, start

STRAIGHT_THROUGH = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs"
    targetNamespace="https://cmdms.example.org/bpmn/tests">
  <bpmn:process id="straight_through" name="Ends at once" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="compute" name="Compute">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>doubled = amount * 2</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute" />
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def _history(instance_id: int) -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(ProcessEvent.kind, ProcessEvent.bpmn_id)
        .where(ProcessEvent.instance_id == instance_id)
        .order_by(ProcessEvent.id)
    )
    return [(r.kind, r.bpmn_id) for r in rows]


def _audit(entity: str, key: str) -> list[tuple[str, str, Any]]:
    rows = db.session.execute(
        select(AuditEntry.action, AuditEntry.actor, AuditEntry.after)
        .where(AuditEntry.entity == entity, AuditEntry.entity_key == key)
        .order_by(AuditEntry.id)
    )
    return [(r.action, r.actor, r.after) for r in rows]


def _principal(username: str) -> Any:
    from service.auth.models import User
    from service.auth.principal import for_user

    return for_user(db.session.scalar(select(User).where(User.username == username)))


def test_a_start_writes_the_row_history_work_item_and_audit_entry(processes_app, org) -> None:
    dc = org("BPLC-D1-S1-DC1")
    started = start_instance(
        db.session(), StartRequest("field_inspection", inspection_data(3), "INSP-0003", dc), TEST_ACTOR
    )
    # The object handed back is the written row, usable without loading it again.
    assert (started.version, started.status, started.business_key, started.org_unit_id) == (
        1, "running", "INSP-0003", dc,
    )  # fmt: skip
    assert started.started_at is not None and started.ended_at is None
    db.session.commit()

    row = instance(started.id)
    definition = workflows().library.get("field_inspection")
    assert (row.version, row.status, row.spec_hash, row.started_by) == (
        1,
        "running",
        definition.spec_hash,
        "test",
    )
    assert '"tasks"' in row.state and '"spec"' not in row.state
    assert _history(started.id)[0] == ("started", "")
    assert _history(started.id) == [("started", ""), ("task_completed", "start")]
    [visit] = open_items(started.id)
    assert (visit.bpmn_id, visit.role, visit.business_key, visit.process_id) == (
        "field_visit", "field_officer", "INSP-0003", "field_inspection",
    )  # fmt: skip
    assert visit.due_at is not None and visit.form_schema["type"] == "object"
    assert visit.data["request_id"] == "INSP-0003"
    assert _audit("process_instance", str(started.id)) == [
        ("start", "test", {"process_id": "field_inspection", "business_key": "INSP-0003"})
    ]


def test_a_duplicate_business_key_is_refused_and_writes_nothing(processes_app) -> None:
    first = start("field_inspection", inspection_data(4), key="INSP-0004")
    counts = [
        db.session.scalar(select(func.count()).select_from(t)) for t in (ProcessEvent, WorkItem, AuditEntry)
    ]

    with pytest.raises(ProcessConflict) as refused:
        start_instance(
            db.session(), StartRequest("field_inspection", inspection_data(4), "INSP-0004", None), TEST_ACTOR
        )
    assert refused.value.error == "duplicate_business_key"
    assert refused.value.details == {"instance_id": first}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 1
    assert [
        db.session.scalar(select(func.count()).select_from(t)) for t in (ProcessEvent, WorkItem, AuditEntry)
    ] == counts


def test_the_same_business_key_may_start_another_process_and_no_key_never_conflicts(processes_app) -> None:
    start("field_inspection", inspection_data(5), key="K-1")
    start("field_inspection", inspection_data(6))
    start("field_inspection", inspection_data(7))
    start("timer_wait", {}, key="K-1")
    assert db.session.scalar(select(func.count()).select_from(ProcessInstance)) == 4


def test_a_process_that_ends_at_once_is_stored_completed_with_its_history(processes_app) -> None:
    workflows().library.add_xml(STRAIGHT_THROUGH, "straight_through.bpmn")
    instance_id = start("straight_through", {"amount": 21})
    row = instance(instance_id)
    assert (row.status, row.version) == ("completed", 1) and row.ended_at is not None
    history = _history(instance_id)
    assert history[0] == ("started", "") and history[-1] == ("completed", "")
    assert ("task_completed", "compute") in history
    assert open_items(instance_id) == []


def test_a_start_that_waits_on_a_timer_writes_the_timer_row(processes_app) -> None:
    instance_id = start("timer_wait", {})
    [timer] = db.session.scalars(select(ProcessTimer).where(ProcessTimer.instance_id == instance_id))
    assert (timer.bpmn_id, timer.status) == ("wait", "pending")


def test_completing_a_task_writes_state_version_history_next_item_and_audit_at_once(
    processes_app, org
) -> None:
    dc = org("BPLC-D1-S1-DC1")
    instance_id = start("field_inspection", inspection_data(8), dc, key="INSP-0008")
    [visit] = open_items(instance_id)
    values = {"findings": "Seal intact", "meter_reading_kwh": 12.5}
    queue.complete(db.session(), _principal("je_east11"), visit.id, values, expected_version=1)
    db.session.commit()

    row = instance(instance_id)
    assert row.version == 2
    [review] = open_items(instance_id)
    assert (review.bpmn_id, review.org_unit_id, review.business_key) == (
        "supervisor_review", org("BPLC-D1-S1"), "INSP-0008",
    )  # fmt: skip
    done = db.session.get(WorkItem, visit.id)
    assert (done.status, done.completed_by, done.result["findings"]) == (
        "completed",
        "je_east11",
        "Seal intact",
    )
    assert _history(instance_id) == [
        ("started", ""), ("task_completed", "start"), ("task_completed", "field_visit"),
    ]  # fmt: skip
    [(action, actor, after)] = _audit("work_item", str(visit.id))
    assert (action, actor, after["meter_reading_kwh"]) == ("complete", "je_east11", 12.5)

    # Optimistic locking still refuses a form posted on the version before.
    with pytest.raises(ProcessConflict) as stale:
        queue.complete(db.session(), _principal("ae_east1"), review.id, {"decision": "approve"}, 1)
    assert (stale.value.error, stale.value.details["current_version"]) == ("version_conflict", 2)
    db.session.rollback()

    queue.complete(
        db.session(), _principal("ae_east1"), review.id, {"decision": "approve", "remarks": "ok"}, 2
    )
    db.session.commit()
    assert instance(instance_id).version == 3
    [call] = db.session.scalars(select(OutboxItem))
    assert call.operation == "workflow:billing.post" and call.payload["instance_id"] == instance_id


def test_a_second_completion_of_the_same_task_is_refused(processes_app, org) -> None:
    instance_id = start("field_inspection", inspection_data(9), org("BPLC-D1-S1-DC1"))
    [visit] = open_items(instance_id)
    je = _principal("je_east11")
    queue.complete(db.session(), je, visit.id, {"findings": "Seal intact", "meter_reading_kwh": 1.0})
    db.session.commit()
    with pytest.raises(ProcessConflict) as closed:
        queue.complete(
            db.session(), je, visit.id, {"findings": "Seal intact again", "meter_reading_kwh": 2.0}
        )
    assert closed.value.error == "task_closed"
    db.session.rollback()
    assert instance(instance_id).version == 2
