"""Whole-request refusals: size, JSON, content type, entity, credentials."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from service.audit.models import AuditEntry
from service.masterdata.models import Consumer
from tests.masterdata.conftest import consumer_row

URL = "/api/v1/masterdata/consumers"


def test_more_than_10000_rows_is_413_and_stores_nothing(demo, client, billing, session) -> None:
    rows = [consumer_row(f"N8{i:09d}") for i in range(10_001)]
    response = client.post(URL, json=rows, headers=billing)
    assert response.status_code == 413
    body = response.get_json()
    assert body["error"] == "too_many_rows" and body["limit"] == 10_000 and body["received"] == 10_001
    assert session.scalar(select(func.count(Consumer.id))) == 300
    assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.entity == "consumer")) == 0


def test_exactly_10000_rows_are_accepted(demo, client, billing, session) -> None:
    rows = [consumer_row(f"N8{i:09d}") for i in range(10_000)]
    response = client.post(URL, json=rows, headers=billing)
    assert response.status_code == 200
    assert response.get_json()["created"] == 10_000
    assert session.scalar(select(func.count(Consumer.id))) == 10_300


def test_malformed_json_is_400(demo, client, billing) -> None:
    headers = {**billing, "Content-Type": "application/json"}
    response = client.post(URL, data='[{"ivrs_number": "N1",', headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_json"


def test_deeply_nested_json_is_400_not_a_crash(demo, client, billing) -> None:
    headers = {**billing, "Content-Type": "application/json"}
    response = client.post(URL, data="[" * 100_000 + "]" * 100_000, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_json"


def test_a_json_object_instead_of_a_list_is_400(demo, client, billing) -> None:
    response = client.post(URL, json=consumer_row("N9000000001"), headers=billing)
    assert response.status_code == 400
    assert response.get_json()["error"] == "expected_list"


def test_wrong_content_type_is_415(demo, client, billing) -> None:
    body = json.dumps([consumer_row("N9000000001")])
    response = client.post(URL, data=body, headers={**billing, "Content-Type": "text/csv"})
    assert response.status_code == 415
    assert response.get_json()["error"] == "unsupported_media_type"


def test_unknown_entity_is_404(demo, client, billing) -> None:
    response = client.post("/api/v1/masterdata/transformers", json=[], headers=billing)
    assert response.status_code == 404
    assert response.get_json()["error"] == "unknown_entity"


def test_empty_list_is_an_empty_result(demo, client, billing) -> None:
    response = client.post(URL, json=[], headers=billing)
    assert response.get_json() == {
        "entity": "consumers",
        "received": 0,
        "accepted": 0,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "rejected": [],
    }


def test_field_officer_may_read_but_not_write(demo, login) -> None:
    client = login("ee_east")
    assert client.get(URL).status_code == 200
    response = client.post(URL, json=[consumer_row("N9000000001")])
    assert response.status_code == 403
    assert response.get_json()["error"] == "forbidden"


def test_admin_user_may_write_with_a_session(demo, login, session) -> None:
    client = login("admin")
    response = client.post(URL, json=[consumer_row("N9000000001")])
    assert response.get_json()["created"] == 1
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity_key == "N9000000001"))
    assert (entry.actor_kind, entry.actor) == ("user", "admin")


def test_key_limited_to_a_division_cannot_write_outside_it(demo, make_api_key, client, session) -> None:
    from service.masterdata.models import OrgUnit

    east = session.scalar(select(OrgUnit.id).where(OrgUnit.code == "BPLC-D1"))
    headers = make_api_key("masterdata:write", system="amr-east", org_unit_id=east)
    rows = [consumer_row("N9000000001"), consumer_row("N9000000002", org_unit_code="SHR-D1-S1-DC1")]
    result = client.post(URL, json=rows, headers=headers).get_json()
    assert result["created"] == 1
    assert result["rejected"] == [
        {"index": 1, "key": "N9000000002", "field": "org_unit_code", "reason": "outside your org unit"}
    ]
