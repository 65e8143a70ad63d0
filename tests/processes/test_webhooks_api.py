"""Signed billing webhooks and the start API: signature, window, idempotency, mapping."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from integrations.billing.client import sign
from service.extensions import db
from service.processes.models import ProcessInstance, WebhookReceipt
from tests.processes.conftest import BILLING_SECRET

URL = "/api/v1/webhooks/billing"


def _event(request_id: str = "INSP-9001", event_type: str = "inspection.requested") -> bytes:
    body = {"type": event_type, "data": {"request_id": request_id, "org_unit_code": "BPLC-D1-S1-DC1",
                                          "ivrs_number": "N0000001", "reason": "tamper"}}  # fmt: skip
    return json.dumps(body).encode()


def _headers(
    body: bytes, key: str = "evt-1", secret: str = BILLING_SECRET, at: int | None = None
) -> dict[str, str]:
    timestamp = str(at if at is not None else int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-CMDMS-Timestamp": timestamp,
        "X-CMDMS-Signature": sign(secret, timestamp, body),
        "Idempotency-Key": key,
    }


def _instances() -> int:
    return int(db.session.scalar(select(func.count(ProcessInstance.id))) or 0)


def test_signed_webhook_starts_the_mapped_process(processes_app, org, client) -> None:
    before = _instances()
    body = _event()
    response = client.post(URL, data=body, headers=_headers(body))
    assert response.status_code == 201, response.json
    started = db.session.get(ProcessInstance, response.json["instance_id"])
    assert (started.process_id, started.business_key, started.org_unit_id) == (
        "field_inspection", "INSP-9001", org("BPLC-D1-S1-DC1"),
    )  # fmt: skip
    assert _instances() == before + 1


def test_replay_of_signed_webhook_returns_the_first_answer_and_starts_nothing(
    processes_app, discom, client
) -> None:
    body = _event()
    first = client.post(URL, data=body, headers=_headers(body, key="evt-7"))
    count = _instances()
    again = client.post(URL, data=body, headers=_headers(body, key="evt-7"))
    assert again.status_code == 201 and again.json["instance_id"] == first.json["instance_id"]
    assert again.json["replayed"] is True and _instances() == count
    assert db.session.scalar(select(func.count(WebhookReceipt.id))) == 1


def test_same_idempotency_key_with_another_body_is_refused(processes_app, discom, client) -> None:
    body = _event()
    client.post(URL, data=body, headers=_headers(body, key="evt-8"))
    other = _event("INSP-9002")
    response = client.post(URL, data=other, headers=_headers(other, key="evt-8"))
    assert (response.status_code, response.json["error"]) == (422, "idempotency_key_reused")


def test_wrong_signature_is_refused_and_starts_nothing(processes_app, discom, client) -> None:
    body = _event()
    count = _instances()
    response = client.post(URL, data=body, headers=_headers(body, secret="not-the-secret"))
    assert (response.status_code, response.json["error"]) == (401, "invalid_signature")
    tampered = _headers(body)
    response = client.post(URL, data=body.replace(b"tamper", b"tampez"), headers=tampered)
    assert response.json["error"] == "invalid_signature" and _instances() == count


def test_expired_timestamp_is_refused(processes_app, discom, client) -> None:
    body = _event()
    response = client.post(URL, data=body, headers=_headers(body, at=int(time.time()) - 301))
    assert (response.status_code, response.json["error"]) == (401, "stale_timestamp")
    response = client.post(URL, data=body, headers=_headers(body, at=int(time.time()) + 400))
    assert response.json["error"] == "stale_timestamp"


def test_missing_headers_and_bad_bodies_get_exact_errors(processes_app, discom, client) -> None:
    body = _event()
    assert client.post(URL, data=body).json["error"] == "missing_signature"
    no_key = _headers(body)
    del no_key["Idempotency-Key"]
    assert client.post(URL, data=body, headers=no_key).json["error"] == "missing_idempotency_key"
    junk = b"{not json"
    assert client.post(URL, data=junk, headers=_headers(junk, key="j")).json["error"] == "invalid_json"
    listy = b"[1, 2]"
    assert client.post(URL, data=listy, headers=_headers(listy, key="l")).status_code == 422
    unknown_org = json.dumps({"type": "inspection.requested", "data": {"request_id": "X"}}).encode()
    response = client.post(URL, data=unknown_org, headers=_headers(unknown_org, key="u"))
    assert (response.status_code, response.json["error"]) == (422, "unknown_org_unit")


def test_unknown_event_type_is_422(processes_app, discom, client) -> None:
    body = _event(event_type="meter.exploded")
    response = client.post(URL, data=body, headers=_headers(body, key="evt-x"))
    assert (response.status_code, response.json["error"]) == (422, "unknown_event_type")
    assert response.json["known_types"] == [
        "disconnection.list",
        "inspection.requested",
        "prepaid.payment",
        "reconnection.list",
        "replacement.decision",
    ]


def test_webhook_for_a_system_without_a_secret_is_404(processes_app, client) -> None:
    body = _event()
    response = client.post("/api/v1/webhooks/scada", data=body, headers=_headers(body))
    assert (response.status_code, response.json["error"]) == (404, "unknown_system")


def test_start_api_needs_the_workflows_write_scope(processes_app, discom, client, make_api_key) -> None:
    payload = {"process_id": "field_inspection", "business_key": "INSP-1", "org_unit_code": "BPLC-D1-S1-DC1",
               "data": {"request_id": "INSP-1", "ivrs_number": "N1"}}  # fmt: skip
    denied = client.post("/api/v1/processes", json=payload, headers=make_api_key("masterdata:read"))
    assert (denied.status_code, denied.json["error"]) == (403, "insufficient_scope")
    headers = make_api_key("workflows:write")
    created = client.post("/api/v1/processes", json=payload, headers=headers)
    assert created.status_code == 201 and created.json["status"] == "running"
    duplicate = client.post("/api/v1/processes", json=payload, headers=headers)
    assert (duplicate.status_code, duplicate.json["error"]) == (409, "duplicate_business_key")
    assert duplicate.json["instance_id"] == created.json["instance_id"]


def test_start_api_refuses_unknown_process_and_hostile_data(
    processes_app, discom, client, make_api_key
) -> None:
    headers = make_api_key("workflows:write")
    unknown = client.post(
        "/api/v1/processes", json={"process_id": "nope", "org_unit_code": "BPLC"}, headers=headers
    )
    assert (unknown.status_code, unknown.json["error"]) == (422, "unknown_process")
    hostile = {"process_id": "field_inspection", "org_unit_code": "BPLC", "data": {"__builtins__": {"x": 1}}}
    response = client.post("/api/v1/processes", json=hostile, headers=headers)
    assert (response.status_code, response.json["error"]) == (422, "invalid_data")
    wrong_type = client.post("/api/v1/processes", json={"process_id": 5}, headers=headers)
    assert wrong_type.status_code == 422 and "process_id" in wrong_type.json["errors"]["json"]


def test_work_item_api_completion_with_a_stale_version_gets_409(processes_app, org, login) -> None:
    from tests.processes.helpers import inspection_data, open_items, start

    instance_id = start("field_inspection", inspection_data(5), org("BPLC-D1-S1-DC1"))
    item_id = open_items(instance_id)[0].id
    client = login("je_east11")  # a person of the candidate group: systems work no human task
    headers: dict[str, str] = {}
    data = {"findings": "all fine", "meter_reading_kwh": 10}
    stale = client.post(
        f"/api/v1/work-items/{item_id}/complete", json={"data": data, "version": 0}, headers=headers
    )
    assert (stale.status_code, stale.json["error"]) == (409, "version_conflict")
    bad = client.post(
        f"/api/v1/work-items/{item_id}/complete", json={"data": {"findings": 1}}, headers=headers
    )
    assert bad.status_code == 422 and {e["field"] for e in bad.json["errors"]} == {
        "findings",
        "meter_reading_kwh",
    }
    ok = client.post(
        f"/api/v1/work-items/{item_id}/complete", json={"data": data, "version": 1}, headers=headers
    )
    assert ok.status_code == 200 and ok.json["status"] == "completed"
