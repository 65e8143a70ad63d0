"""Bulk start (start_many, POST /api/v1/processes/batch): same rows as single starts, per-item
rejects, idempotent repeats, size limit, malformed input and scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.audit.models import AuditEntry
from service.extensions import db
from service.masterdata.models import OrgUnit
from service.outbox.models import OutboxItem
from service.processes.batch import start_many
from service.processes.models import ProcessEvent, ProcessInstance, WorkItem
from tests.processes.helpers import TEST_ACTOR, inspection_data, start

URL = "/api/v1/processes/batch"
DC = "BPLC-D1-S1-DC1"


def _item(n: int, org_unit: str = DC) -> dict[str, Any]:
    return {"business_key": f"INSP-{n:04d}", "org_unit": org_unit, "data": inspection_data(n)}


def _count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _rows(instance_id: int) -> dict[str, Any]:
    """What a start leaves, minus what differs by design (ids, times, the key and its data)."""
    db.session.expire_all()
    row = db.session.get(ProcessInstance, instance_id)
    assert row is not None
    events = db.session.execute(
        select(ProcessEvent.kind, ProcessEvent.bpmn_id, ProcessEvent.name, ProcessEvent.actor)
        .where(ProcessEvent.instance_id == instance_id)
        .order_by(ProcessEvent.id)
    )
    items = db.session.scalars(
        select(WorkItem).where(WorkItem.instance_id == instance_id).order_by(WorkItem.id)
    )
    audit = db.session.execute(
        select(AuditEntry.actor_kind, AuditEntry.actor, AuditEntry.action, AuditEntry.after).where(
            AuditEntry.entity == "process_instance", AuditEntry.entity_key == str(instance_id)
        )
    )
    return {
        "instance": (row.process_id, row.spec_hash, row.status, row.org_unit_id, row.version, row.started_by,
                     row.ended_at, row.error),
        "state_length_class": len(row.state) // 1000,
        "events": [tuple(e) for e in events],
        "items": [(w.bpmn_id, w.name, w.candidate_group, w.role, w.org_unit_id, w.status, w.priority,
                   w.form_schema, sorted(w.data), w.due_at is not None) for w in items],
        "audit": [(a.actor_kind, a.actor, a.action, sorted(a.after)) for a in audit],
    }  # fmt: skip


def test_start_many_writes_the_same_rows_as_a_single_start(processes_app, org) -> None:
    dc = org(DC)
    single = start("field_inspection", inspection_data(1), dc, key="INSP-0001")
    outcomes = start_many(
        db.session(),
        "field_inspection",
        [(f"INSP-{n:04d}", DC, inspection_data(n)) for n in (2, 3, 4)],
        TEST_ACTOR,
    )
    db.session.commit()
    assert [(o.index, o.business_key, o.reason) for o in outcomes] == [
        (0, "INSP-0002", None), (1, "INSP-0003", None), (2, "INSP-0004", None),
    ]  # fmt: skip
    expected = _rows(single)
    for outcome in outcomes:
        assert outcome.instance_id is not None
        assert _rows(outcome.instance_id) == expected
        row = db.session.get(ProcessInstance, outcome.instance_id)
        assert row is not None and row.business_key == outcome.business_key
        [item] = db.session.scalars(select(WorkItem).where(WorkItem.instance_id == outcome.instance_id))
        assert (item.business_key, item.data["request_id"]) == (outcome.business_key, outcome.business_key)
    # Ids ascend in request order, as one start after another would give them.
    ids = [int(o.instance_id or 0) for o in outcomes]
    assert ids == sorted(ids)


def test_batch_api_starts_every_item_with_its_work_item_and_audit_entry(
    processes_app, org, client, make_api_key
) -> None:
    response = client.post(
        URL,
        json={"process": "field_inspection", "items": [_item(n) for n in range(1, 6)]},
        headers=make_api_key("workflows:write"),
    )
    assert response.status_code == 200, response.json
    assert (response.json["started"], response.json["rejected"]) == (5, [])
    started = response.json["instances"]
    assert [(s["index"], s["business_key"]) for s in started] == [(i, f"INSP-{i + 1:04d}") for i in range(5)]
    ids = [s["instance_id"] for s in started]
    open_visits = db.session.scalars(
        select(WorkItem.instance_id).where(WorkItem.status == "open", WorkItem.bpmn_id == "field_visit")
    ).all()
    assert sorted(open_visits) == sorted(ids)
    audited = db.session.scalars(
        select(AuditEntry.entity_key).where(
            AuditEntry.entity == "process_instance", AuditEntry.action == "start"
        )
    ).all()
    assert sorted(audited) == sorted(str(i) for i in ids)
    units = db.session.scalars(select(ProcessInstance.org_unit_id).where(ProcessInstance.id.in_(ids))).all()
    assert set(units) == {org(DC)}


def test_batch_rejects_duplicates_and_unknown_org_units_and_starts_the_rest(
    processes_app, org, client, make_api_key
) -> None:
    existing = start("field_inspection", inspection_data(1), org(DC), key="INSP-0001")
    items = [
        _item(1),  # exists in the database
        _item(2),
        _item(2),  # repeated inside the request
        _item(3, org_unit="NO-SUCH-UNIT"),
        {"business_key": "INSP-0004", "org_unit": DC, "data": {"not an identifier": 1}},
        _item(5),
    ]
    response = client.post(
        URL, json={"process": "field_inspection", "items": items}, headers=make_api_key("workflows:write")
    )
    assert response.status_code == 200, response.json
    assert response.json["started"] == 2
    rejected = {(r["index"], r["business_key"], r["reason"]) for r in response.json["rejected"]}
    assert rejected == {
        (0, "INSP-0001", "duplicate_business_key"),
        (2, "INSP-0002", "duplicate_business_key"),
        (3, "INSP-0003", "unknown_org_unit"),
        (4, "INSP-0004", "invalid_data"),
    }
    assert response.json["rejected"][0]["instance_id"] == existing
    assert [(s["index"], s["business_key"]) for s in response.json["instances"]] == [
        (1, "INSP-0002"), (5, "INSP-0005"),
    ]  # fmt: skip
    keys = db.session.scalars(select(ProcessInstance.business_key).order_by(ProcessInstance.id)).all()
    assert keys == ["INSP-0001", "INSP-0002", "INSP-0005"]
    assert _count(WorkItem) == 3


def test_repeating_a_batch_starts_nothing_and_reports_every_key_as_duplicate(
    processes_app, discom, client, make_api_key
) -> None:
    headers = make_api_key("workflows:write")
    body = {"process": "field_inspection", "items": [_item(n) for n in range(1, 4)]}
    first = client.post(URL, json=body, headers=headers)
    counts = (_count(ProcessInstance), _count(WorkItem), _count(ProcessEvent), _count(AuditEntry))
    again = client.post(URL, json=body, headers=headers)
    assert again.status_code == 200
    assert (again.json["started"], again.json["instances"]) == (0, [])
    assert [(r["index"], r["reason"], r["instance_id"]) for r in again.json["rejected"]] == [
        (s["index"], "duplicate_business_key", s["instance_id"]) for s in first.json["instances"]
    ]
    assert (_count(ProcessInstance), _count(WorkItem), _count(ProcessEvent), _count(AuditEntry)) == counts


def test_more_than_1000_items_is_413_and_nothing_is_started(
    processes_app, discom, client, make_api_key
) -> None:
    body = {"process": "field_inspection", "items": [_item(n) for n in range(1001)]}
    response = client.post(URL, json=body, headers=make_api_key("workflows:write"))
    assert (response.status_code, response.json["error"], response.json["items"]) == (
        413,
        "batch_too_large",
        1001,
    )
    assert _count(ProcessInstance) == 0 and _count(WorkItem) == 0


def test_wrong_types_are_refused_with_the_field_names(processes_app, discom, client, make_api_key) -> None:
    headers = make_api_key("workflows:write")
    whole = client.post(URL, json={"process": 5, "items": "all of them"}, headers=headers)
    assert whole.status_code == 422
    assert set(whole.json["errors"]["json"]) == {"process", "items"}
    missing = client.post(URL, json={"items": []}, headers=headers)
    assert missing.status_code == 422 and "process" in missing.json["errors"]["json"]
    unknown = client.post(URL, json={"process": "nope", "items": []}, headers=headers)
    assert (unknown.status_code, unknown.json["error"], unknown.json["field"]) == (
        422,
        "unknown_process",
        "process",
    )
    # A malformed item is rejected by name of its fields; the good item beside it starts.
    items = [{"business_key": 7, "org_unit": DC, "data": "x"}, _item(2)]
    mixed = client.post(URL, json={"process": "field_inspection", "items": items}, headers=headers)
    assert mixed.status_code == 200 and mixed.json["started"] == 1
    [bad] = mixed.json["rejected"]
    assert (bad["index"], bad["reason"], set(bad["errors"])) == (0, "invalid_item", {"business_key", "data"})
    assert db.session.scalars(select(ProcessInstance.business_key)).all() == ["INSP-0002"]


def test_batch_start_needs_the_workflows_write_scope(processes_app, discom, client, make_api_key) -> None:
    body = {"process": "field_inspection", "items": [_item(1)]}
    denied = client.post(URL, json=body, headers=make_api_key("masterdata:read"))
    assert (denied.status_code, denied.json["error"]) == (403, "insufficient_scope")
    anonymous = client.post(URL, json=body)
    assert anonymous.status_code == 401
    assert _count(ProcessInstance) == 0


def test_batch_start_is_described_in_the_openapi_document(processes_app, client) -> None:
    spec = client.get("/api/openapi.json").json
    operation = spec["paths"]["/api/v1/processes/batch"]["post"]
    assert "requestBody" in operation and "1,000" in operation["description"]


def test_key_of_an_org_unit_rejects_items_outside_it(processes_app, org, client, make_api_key) -> None:
    east = make_api_key("workflows:write", org_unit_id=org("BPLC-D1"))
    outside = db.session.scalar(
        select(OrgUnit.code).where(OrgUnit.level == "dc", ~OrgUnit.code.startswith("BPLC-D1"))
    )
    assert outside is not None
    body = {"process": "field_inspection", "items": [_item(1), _item(2, org_unit=outside)]}
    response = client.post(URL, json=body, headers=east)
    assert response.status_code == 200 and response.json["started"] == 1
    assert [(r["index"], r["reason"]) for r in response.json["rejected"]] == [(1, "outside_your_org_unit")]


def test_items_with_a_service_call_take_the_per_instance_path_in_the_same_batch(processes_app, org) -> None:
    outcomes = start_many(
        db.session(),
        "service_call",
        [("CALL-1", DC, {"label": "a"}), ("CALL-2", DC, {"label": "b"}), ("CALL-1", DC, {"label": "c"})],
        TEST_ACTOR,
    )
    db.session.commit()
    assert [o.reason for o in outcomes] == [None, None, "duplicate_business_key"]
    payloads = db.session.scalars(select(OutboxItem.payload).order_by(OutboxItem.id)).all()
    assert [(p["instance_id"], p["params"]) for p in payloads] == [
        (outcomes[0].instance_id, {"label": "a"}), (outcomes[1].instance_id, {"label": "b"}),
    ]  # fmt: skip
    audited = db.session.scalars(select(AuditEntry.entity_key).where(AuditEntry.action == "start")).all()
    assert sorted(audited) == sorted(str(o.instance_id) for o in outcomes[:2])
