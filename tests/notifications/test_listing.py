"""The notifications API and page: filters, org scoping, device registration, malformed input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from service.masterdata.models import OrgUnit
from service.notifications import notify
from service.notifications.models import DeviceToken
from service.web.nav import items_for

DAY = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
OUTAGE = {"area": "Kolar", "start": "10:00", "end": "12:00"}


def _child_unit(session: Any, parent: int) -> int:
    unit = OrgUnit(code="TST-D1", name="Division 1", level="division", parent_id=parent, path="/TST/D1/")
    session.add(unit)
    session.flush()
    return int(unit.id)


def _seed(session: Any, make_consumer: Any, org_unit: int) -> tuple[int, int]:
    division = _child_unit(session, org_unit)
    inside = make_consumer(org_unit_id=division)
    outside = make_consumer(mobile=None)
    notify(session, consumer_id=inside, message_type="planned_outage", params=OUTAGE, dedupe_key="a", now=DAY)
    notify(
        session, consumer_id=outside, message_type="planned_outage", params=OUTAGE, dedupe_key="b", now=DAY
    )
    session.commit()
    return division, inside


def test_api_lists_notifications_filtered_by_consumer_and_status(
    client, session, wired, make_consumer, org_unit, make_api_key
):
    _seed(session, make_consumer, org_unit)
    headers = make_api_key("notifications:read")
    everything = client.get("/api/v1/notifications", headers=headers).get_json()
    assert [n["dedupe_key"] for n in everything] == ["b", "a"]
    failed = client.get("/api/v1/notifications?status=failed", headers=headers).get_json()
    assert [(n["dedupe_key"], n["error"].split(":")[0]) for n in failed] == [("b", "no_contact")]
    by_consumer = client.get("/api/v1/notifications?consumer=N000000001", headers=headers).get_json()
    assert [(n["consumer_ivrs"], n["status"], n["channels"]) for n in by_consumer] == [
        ("N000000001", "queued", ["push", "sms"])
    ]
    assert client.get("/api/v1/notifications?type=staff_otp", headers=headers).get_json() == []


def test_api_is_scoped_to_the_callers_org_unit(client, session, wired, make_consumer, org_unit, make_api_key):
    division, _ = _seed(session, make_consumer, org_unit)
    headers = make_api_key("notifications:read", org_unit_id=division)
    rows = client.get("/api/v1/notifications", headers=headers).get_json()
    assert [n["dedupe_key"] for n in rows] == ["a"]
    hidden = client.get("/api/v1/notifications?consumer=N000000002", headers=headers)
    assert hidden.status_code == 404 and hidden.get_json()["error"] == "unknown_consumer"


def test_api_rejects_bad_filters_naming_the_field(client, wired, make_api_key):
    headers = make_api_key("notifications:read")
    reply = client.get("/api/v1/notifications?status=lost&limit=0&date=yesterday", headers=headers)
    assert reply.status_code == 422
    assert set(reply.get_json()["errors"]["query"]) == {"status", "limit", "date"}
    unknown = client.get("/api/v1/notifications?consumer=NOPE", headers=headers)
    assert (unknown.status_code, unknown.get_json()["field"]) == (404, "consumer")


def test_api_needs_credentials_and_the_read_scope(client, wired, make_api_key):
    assert client.get("/api/v1/notifications").status_code == 401
    wrong = client.get("/api/v1/notifications", headers=make_api_key("readings:read"))
    assert (wrong.status_code, wrong.get_json()["error"]) == (403, "insufficient_scope")


def test_app_backend_registers_a_device_token_once(client, session, wired, make_consumer, make_api_key):
    make_consumer()
    session.commit()
    headers = make_api_key("notifications:write")
    body = {"consumer": "N000000001", "token": "fcm-registration-token-0001-abcdefghijklmnop"}
    first = client.post("/api/v1/notifications/devices", json=body, headers=headers)
    again = client.post("/api/v1/notifications/devices", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert len(session.scalars(select(DeviceToken)).all()) == 1
    bad = client.post(
        "/api/v1/notifications/devices", json={"consumer": "N000000001", "token": 5}, headers=headers
    )
    assert bad.status_code == 422 and set(bad.get_json()["errors"]["json"]) == {"token"}
    unknown = client.post("/api/v1/notifications/devices", json={**body, "consumer": "X"}, headers=headers)
    assert unknown.status_code == 404


def test_page_lists_notifications_for_the_customer_care_centre(
    client, session, wired, demo, login, make_consumer
):
    from service.masterdata.models import Consumer

    consumer = session.scalars(select(Consumer).where(Consumer.mobile.is_not(None))).first()
    notify(
        session,
        consumer_id=consumer.id,
        message_type="planned_outage",
        params=OUTAGE,
        dedupe_key="p",
        now=DAY,
    )
    session.commit()
    login("ccc")
    page = client.get(f"/notifications?consumer={consumer.ivrs_number}&status=queued")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert consumer.ivrs_number in html and "Kolar" in html and "planned_outage" in html
    bad = client.get("/notifications?status=lost&date=31-12-2026")
    text = bad.get_data(as_text=True)
    assert "status: unknown value &#39;lost&#39;" in text and "date: expected YYYY-MM-DD" in text


def test_page_is_for_ccc_agents_and_admins_only(client, wired, demo, login):
    login("viewer")
    assert client.get("/notifications").status_code == 403
    labels = {item.label for item in items_for("ccc_agent")}
    assert "Notifications" in labels
    assert "Notifications" not in {item.label for item in items_for("viewer")}
