"""Quarantine you can see: the API and page list held values by reason, meter and source (org-scoped,
paginated with the total, IST times), replay after master data is fixed, discard with a reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import insert, text

from tests.integrations import cim_messages as m
from tests.readings.conftest import add_meter

XML = {"Content-Type": "text/xml"}


@pytest.fixture
def org_units(session: Any) -> dict[str, int]:
    from service.masterdata.models import OrgUnit

    top = session.execute(
        insert(OrgUnit).values(code="T", name="T", level="discom", path="/T/").returning(OrgUnit.id)
    ).scalar_one()
    east = session.execute(
        insert(OrgUnit)
        .values(code="E", name="E", level="division", parent_id=top, path="/T/E/")
        .returning(OrgUnit.id)
    ).scalar_one()
    west = session.execute(
        insert(OrgUnit)
        .values(code="W", name="W", level="division", parent_id=top, path="/T/W/")
        .returning(OrgUnit.id)
    ).scalar_one()
    session.commit()
    return {"T": top, "E": east, "W": west}


@pytest.fixture
def east_hes(make_api_key: Callable[..., dict[str, str]], org_units: Any) -> dict[str, str]:
    return make_api_key("readings:write", "readings:read", system="hes-east", org_unit_id=org_units["E"])


@pytest.fixture
def west_hes(make_api_key: Callable[..., dict[str, str]], org_units: Any) -> dict[str, str]:
    return make_api_key("readings:write", "readings:read", system="hes-west", org_unit_id=org_units["W"])


def push(client: Any, key: dict[str, str], serial: str, message_id: str) -> Any:
    body = f"<MeterReading>{m.block(m.KWH_15, m.interval('2026-11-27T06:45:00+05:30', '2.5'))}{m.meter(serial)}</MeterReading>"
    return client.post(
        "/api/v1/cim/meter-readings",
        data=m.production_hes(body, message_id=message_id),
        headers={**key, **XML},
    )


def test_held_values_are_listed_scoped_filtered_and_replayed_after_master_data_brings_the_meter(
    client: Any, session: Any, org_units: Any, east_hes: Any, west_hes: Any, make_api_key: Any
) -> None:
    assert push(client, east_hes, "S00000901", "q-1").status_code == 200  # quarantined counts as accepted
    assert push(client, west_hes, "S00000902", "q-2").status_code == 200
    body = client.get("/api/v1/quarantine", headers=east_hes).get_json()
    assert (body["total"], body["page"], body["page_size"]) == (1, 1, 50)
    (item,) = body["items"]
    assert {
        k: item[k]
        for k in ("subject_kind", "subject_code", "measure", "rows", "reason", "source", "message_id")
    } == {
        "subject_kind": "meter",
        "subject_code": "S00000901",
        "measure": "interval",
        "rows": 1,
        "reason": "meter 'S00000901' is not in master data",
        "source": "cim:HES-MP-01",
        "message_id": "q-1",
    }
    assert item["quarantined_at"].endswith("+05:30")
    admin = make_api_key("readings:write", "readings:read", system="ops")
    assert client.get("/api/v1/quarantine", headers=admin).get_json()["total"] == 2
    assert (
        client.get("/api/v1/quarantine?meter=S00000902", headers=admin).get_json()["items"][0]["message_id"]
        == "q-2"
    )
    assert client.get("/api/v1/quarantine?reason=not%20in%20master", headers=admin).get_json()["total"] == 2
    assert client.get("/api/v1/quarantine?source=cim:other", headers=admin).get_json()["total"] == 0
    assert client.get("/api/v1/quarantine?page_size=0", headers=admin).status_code == 400
    add_meter(session, "S00000901", org_units["E"])
    session.commit()
    assert client.post("/api/v1/quarantine/replay", headers=admin).get_json() == {
        "groups": 1,
        "rows": 1,
        "stored": 1,
    }
    stored = session.execute(
        text("SELECT m.serial_number, i.value FROM interval_readings i JOIN meters m ON m.id = i.meter_id")
    ).all()
    assert [tuple(r) for r in stored] == [("S00000901", 2.5)]
    assert client.get("/api/v1/quarantine", headers=admin).get_json()["total"] == 1


def test_discard_needs_a_reason_is_scoped_and_audited(
    client: Any, session: Any, org_units: Any, east_hes: Any, west_hes: Any
) -> None:
    push(client, west_hes, "S00000902", "q-2")
    group = session.execute(text("SELECT id FROM quarantined_readings")).scalar_one()
    url = f"/api/v1/quarantine/{group}/discard"
    assert client.post(url, json={}, headers=west_hes).get_json()["error"] == "missing_reason"
    assert client.post(url, json={"reason": "test meter"}, headers=east_hes).status_code == 404  # not theirs
    done = client.post(url, json={"reason": "meter scrapped before install"}, headers=west_hes).get_json()
    assert done == {"id": group, "discarded": 1, "reason": "meter scrapped before install"}
    assert session.execute(text("SELECT count(*) FROM quarantined_readings")).scalar_one() == 0
    audit = session.execute(
        text(
            "SELECT actor, before->>'subject_code', after->>'reason' FROM audit_log"
            " WHERE action = 'discard' AND entity = 'quarantined_readings'"
        )
    ).all()
    assert [tuple(a) for a in audit] == [("hes-west", "S00000902", "meter scrapped before install")]


def test_quarantine_page_shows_ist_times_and_total(
    client: Any, session: Any, org_units: Any, west_hes: Any, login: Any
) -> None:
    from service.audit.log import CLI_ACTOR
    from service.auth.users import create_user

    push(client, west_hes, "S00000902", "q-2")
    create_user(session, "analyst1", "long-enough-password", "analyst", "T", CLI_ACTOR)
    session.commit()
    page = login("analyst1", "long-enough-password").get("/readings/quarantine")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<small id="quarantine-total">1</small>' in html
    assert "meter S00000902" in html and " IST</time></td>" in html
