"""Instances end to end on real PostgreSQL, Redis and RQ workers, with real BPMN files."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from service.extensions import db
from service.outbox.models import OutboxItem
from service.processes import queue
from service.processes.models import Incident, ProcessEvent, ProcessTimer, WorkItem
from service.processes.runtime import ProcessConflict, deliver_message
from service.processes.timers import sweep_timers
from tests.processes.conftest import FLAKY
from tests.processes.helpers import TEST_ACTOR, inspection_data, instance, open_items, start


def _principal(username: str) -> Any:
    from service.auth.models import User
    from service.auth.principal import for_user

    user = db.session.scalar(select(User).where(User.username == username))
    return for_user(user)


def test_inspection_runs_from_visit_to_review_to_billing_post(processes_app, org, billing, drain) -> None:
    dc = org("BPLC-D1-S1-DC1")
    instance_id = start("field_inspection", inspection_data(1), dc, key="INSP-0001")
    [visit] = open_items(instance_id)
    assert (visit.bpmn_id, visit.candidate_group, visit.role, visit.org_unit_id) == (
        "field_visit", "field_officer", "field_officer", dc,
    )  # fmt: skip
    assert visit.due_at is not None and visit.form_schema["required"] == ["findings", "meter_reading_kwh"]

    je = _principal("je_east11")
    values = {
        "findings": "Seal broken, bypass found",
        "meter_reading_kwh": 4321.5,
        "photo_reference": "IMG-7",
    }
    queue.complete(db.session(), je, visit.id, values)
    db.session.commit()
    [review] = open_items(instance_id)
    # The supervisor lane is one org level up: the subdivision.
    assert (review.bpmn_id, review.org_unit_id) == ("supervisor_review", org("BPLC-D1-S1"))
    with pytest.raises(LookupError):
        queue.get_item(db.session(), je, review.id)  # the JE at the DC does not see it

    queue.complete(db.session(), _principal("ae_east1"), review.id, {"decision": "approve", "remarks": "ok"})
    db.session.commit()
    assert instance(instance_id).status == "running"
    drain()
    [posted] = billing.requests
    assert posted.path == "/inspections/results" and posted.signature_ok
    assert posted.body["meter_reading_kwh"] == 4321.5 and posted.body["request_id"] == "INSP-0001"
    assert posted.idempotency_key.startswith(f"cmdms-wf-{instance_id}-")
    done = instance(instance_id)
    assert done.status == "completed" and done.ended_at is not None
    kinds = [
        e.kind
        for e in db.session.scalars(select(ProcessEvent).where(ProcessEvent.instance_id == instance_id))
    ]
    assert kinds[0] == "started" and kinds[-1] == "completed"


def test_send_back_returns_the_visit_to_the_field_officer(processes_app, org) -> None:
    instance_id = start("field_inspection", inspection_data(2), org("BPLC-D1-S1-DC1"))
    [visit] = open_items(instance_id)
    queue.complete(
        db.session(), _principal("je_east11"), visit.id, {"findings": "done", "meter_reading_kwh": 1}
    )
    db.session.commit()
    [review] = open_items(instance_id)
    queue.complete(
        db.session(), _principal("ee_east"), review.id, {"decision": "send_back", "remarks": "photo?"}
    )
    db.session.commit()
    [again] = open_items(instance_id)
    assert again.bpmn_id == "field_visit" and again.id != visit.id


def test_form_is_validated_server_side_and_nothing_moves_on_bad_data(processes_app, org) -> None:
    instance_id = start("field_inspection", inspection_data(3), org("BPLC-D1-S1-DC1"))
    [visit] = open_items(instance_id)
    with pytest.raises(queue.FormInvalid) as refused:
        queue.complete(db.session(), _principal("je_east11"), visit.id, {"meter_reading_kwh": -5, "hack": 1})
    db.session.rollback()
    assert {(e.field, e.message) for e in refused.value.errors} == {
        ("findings", "is required"),
        ("meter_reading_kwh", "-5 is less than the minimum of 0"),
        ("hack", "is not a field of this form"),
    }
    assert [i.id for i in open_items(instance_id)] == [visit.id]


def test_service_task_failing_then_succeeding_completes_the_instance(processes_app, billing, drain) -> None:
    billing.fail_next(2)
    instance_id = start("service_call", {"label": "first"})
    FLAKY.failures = 2
    drain()
    assert len(FLAKY.calls) == 3 and {c["key"] for c in FLAKY.calls} == {FLAKY.calls[0]["key"]}
    [check] = open_items(instance_id)
    assert check.bpmn_id == "check" and check.data["op_result"] == {"ok": True, "label": "first"}
    item = db.session.scalar(select(OutboxItem))
    assert (item.status, item.attempts) == ("done", 3)


def test_incident_after_retries_shows_the_error_and_retry_resumes(
    processes_app, discom, drain, login
) -> None:
    FLAKY.failures = 99
    instance_id = start("service_call", {"label": "x"})
    drain()
    broken = instance(instance_id)
    assert broken.status == "incident" and "HES gateway timed out" in (broken.error or "")
    [incident] = db.session.scalars(select(Incident)).all()
    assert (incident.kind, incident.operation, incident.status) == ("service", "test.flaky", "open")
    incident_id = incident.id

    client = login("admin")
    page = client.get(f"/processes/{instance_id}").get_data(as_text=True)
    assert "ConnectionError: HES gateway timed out" in page and "Retry" in page
    FLAKY.failures = 0
    from tests.conftest import _csrf_from

    response = client.post(f"/processes/incidents/{incident_id}/retry", data={"csrf_token": _csrf_from(page)})
    assert response.status_code == 302
    drain()
    assert instance(instance_id).status == "running"
    assert [i.bpmn_id for i in open_items(instance_id)] == ["check"]
    db.session.expire_all()
    assert db.session.get(Incident, incident_id).status == "retried"


def test_skipping_an_incident_moves_the_process_past_the_failed_step(processes_app, drain, session) -> None:
    from service.processes.incidents import skip_incident

    FLAKY.failures, FLAKY.permanent = 1, True
    instance_id = start("service_call", {"label": "x"})
    drain()
    [incident] = db.session.scalars(select(Incident)).all()
    assert "PermanentError: the meter is unknown to the HES" in incident.error and len(FLAKY.calls) == 1
    skip_incident(db.session(), incident.id, TEST_ACTOR)
    db.session.commit()
    assert [i.bpmn_id for i in open_items(instance_id)] == ["check"]
    assert instance(instance_id).status == "running"


def test_timer_fires_through_the_rq_scheduler(processes_app, run_jobs) -> None:
    instance_id = start("timer_wait", {})
    [timer] = db.session.scalars(select(ProcessTimer)).all()
    timer_id = timer.id
    assert timer.status == "pending" and open_items(instance_id) == []
    time.sleep(1.2)  # the BPMN says PT1S
    run_jobs("default", with_scheduler=True)
    assert [i.bpmn_id for i in open_items(instance_id)] == ["act"]
    db.session.expire_all()
    assert db.session.get(ProcessTimer, timer_id).status == "fired"


def test_timer_survives_a_redis_restart_through_the_table_sweep(processes_app, redis, run_jobs) -> None:
    instance_id = start("timer_wait", {})
    redis.flushdb()  # the RQ schedule is gone, as after a Redis restart without persistence
    time.sleep(1.2)
    assert run_jobs("default", with_scheduler=True) == 0
    assert sweep_timers() == 1
    assert [i.bpmn_id for i in open_items(instance_id)] == ["act"]


def test_boundary_timer_interrupts_the_task_and_cancels_its_work_item(processes_app) -> None:
    instance_id = start("timer_boundary", {"timeout": "PT1S"})
    approve_id = open_items(instance_id)[0].id
    time.sleep(1.2)
    assert sweep_timers() == 1
    assert open_items(instance_id) == []
    db.session.expire_all()
    assert db.session.get(WorkItem, approve_id).status == "cancelled"
    done = instance(instance_id)
    assert done.status == "completed"


def test_message_arriving_late_is_delivered_to_the_waiting_instance(processes_app) -> None:
    instance_id = start("message_wait", {"command_id": "CMD-42"})
    assert open_items(instance_id) == []
    delivered = deliver_message(
        db.session(), "hes_command_done", "CMD-42", {"status": "disconnected"}, TEST_ACTOR
    )
    db.session.commit()
    assert delivered == instance_id
    [review] = open_items(instance_id)
    assert review.data["hes_result"] == {"status": "disconnected"}


def test_message_arriving_early_is_kept_until_the_instance_waits(processes_app) -> None:
    kept = deliver_message(db.session(), "hes_command_done", "CMD-7", {"status": "ok"}, TEST_ACTOR)
    other = deliver_message(db.session(), "hes_command_done", "CMD-8", {"status": "other"}, TEST_ACTOR)
    db.session.commit()
    assert kept is None and other is None
    instance_id = start("message_wait", {"command_id": "CMD-7"})
    [review] = open_items(instance_id)
    assert review.data["hes_result"] == {"status": "ok"}  # CMD-8's message is not taken


def test_two_concurrent_completions_one_wins_the_other_gets_a_version_conflict(
    processes_app, org, app
) -> None:
    instance_id = start("field_inspection", inspection_data(9), org("BPLC-D1-S1-DC1"))
    visit_id = open_items(instance_id)[0].id
    version = instance(instance_id).version
    db.session.commit()
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def complete(username: str) -> None:
        with app.app_context():
            principal = _principal(username)
            barrier.wait()
            try:
                queue.complete(
                    db.session(), principal, visit_id, {"findings": username, "meter_reading_kwh": 1}, version
                )
                db.session.commit()
                outcomes.append("ok")
            except ProcessConflict as exc:
                db.session.rollback()
                outcomes.append(exc.error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=complete, args=(u,)) for u in ("je_east11", "ae_east1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "version_conflict"]
    [review] = open_items(instance_id)
    assert review.bpmn_id == "supervisor_review"
