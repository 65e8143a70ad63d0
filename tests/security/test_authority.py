"""Issue 20 items 3 and 4: systems do not work human tasks; incidents and messages are org-scoped."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.extensions import db
from service.processes.models import Incident, ProcessInstance, ProcessMessage, WorkItem
from tests.conftest import _csrf_from
from tests.processes.conftest import FLAKY
from tests.processes.helpers import inspection_data, instance, open_items, start

FORM = {"findings": "all fine", "meter_reading_kwh": 10}


def _org(code: str) -> int:
    from service.masterdata.models import OrgUnit

    found = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))
    assert found is not None
    return int(found)


def test_a_system_key_with_workflows_write_cannot_see_or_complete_a_human_work_item(
    processes_app: Any, discom: Any, client: Any, make_api_key: Any, login: Any
) -> None:
    instance_id = start("field_inspection", inspection_data(21), _org("BPLC-D1-S1-DC1"))
    [item] = open_items(instance_id)
    version = instance(instance_id).version
    system = make_api_key("workflows:write", system="billing")
    refused = client.post(
        f"/api/v1/work-items/{item.id}/complete", json={"data": FORM, "version": version}, headers=system
    )
    assert (refused.status_code, refused.get_json()["error"]) == (404, "unknown_work_item")
    db.session.expire_all()
    assert db.session.get(WorkItem, item.id).status == "open"
    person = login("je_east11")
    done = person.post(f"/api/v1/work-items/{item.id}/complete", json={"data": FORM, "version": version})
    assert (done.status_code, done.get_json()["status"]) == (200, "completed")


def _circle_admin() -> None:
    from service.audit.log import Actor
    from service.auth.users import create_user

    create_user(db.session(), "admin_sehore", "sehore-admin-pass", "admin", "SHR-D1", Actor("cli", "test"))
    db.session.commit()


def test_an_admin_of_another_circle_can_neither_retry_nor_skip_an_incident(
    processes_app: Any, discom: Any, drain: Any, login: Any, client: Any
) -> None:
    FLAKY.failures, FLAKY.permanent = 1, True
    instance_id = start("service_call", {"label": "x"}, _org("BPLC-D1-S1-DC1"))
    drain()
    [incident] = db.session.scalars(select(Incident)).all()
    incident_id = incident.id
    _circle_admin()
    login("admin_sehore", "sehore-admin-pass")
    token = _csrf_from(client.get("/processes").get_data(as_text=True))
    for action in ("skip", "retry"):
        response = client.post(f"/processes/incidents/{incident_id}/{action}", data={"csrf_token": token})
        assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Incident, incident_id).status == "open"
    assert instance(instance_id).status == "incident"


def test_a_scoped_key_delivers_messages_only_to_instances_of_its_org_unit(
    processes_app: Any, discom: Any, client: Any, make_api_key: Any
) -> None:
    bhopal = start("message_wait", {"command_id": "CMD-1"}, _org("BPLC-D1-S1-DC1"))
    sehore_key = make_api_key("workflows:write", system="sehore-hes", org_unit_id=_org("SHR-D1"))
    message = {"name": "hes_command_done", "correlation_key": "CMD-1", "payload": {"status": "forged"}}
    answer = client.post("/api/v1/process-messages", json=message, headers=sehore_key)
    assert (answer.status_code, answer.get_json()) == (202, {"delivered_to": None, "kept": True})
    assert open_items(bhopal) == []
    # Kept, it is not taken by an instance outside the sender's org unit that starts waiting later.
    later = start("message_wait", {"command_id": "CMD-1"}, _org("BPLC-D1-S1-DC1"))
    assert open_items(later) == []
    sehore = start("message_wait", {"command_id": "CMD-1"}, _org("SHR-D1"))
    [review] = open_items(sehore)
    assert review.data["hes_result"] == {"status": "forged"}
    bhopal_key = make_api_key("workflows:write", system="bhopal-hes", org_unit_id=_org("BPLC"))
    message["payload"] = {"status": "disconnected"}
    answer = client.post("/api/v1/process-messages", json=message, headers=bhopal_key)
    assert answer.get_json() == {"delivered_to": bhopal, "kept": False}
    assert db.session.scalar(select(func.count(ProcessMessage.id))) == 2
    assert db.session.scalar(select(func.count(ProcessInstance.id))) == 3
