"""The app's other calls for a signed-in consumer: push device registration, the notifications
sent to them, prepaid balance (and the ledger seam), outages on their DT from the outages face."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from service.audit.log import Actor
from tests.consumers.conftest import NOW, AppSignIn
from tests.consumption.conftest import Consumers

DEVICE = "fcm-token-" + "a" * 40


def test_a_device_is_registered_for_the_consumer_once(
    people: Consumers, app_sign_in: AppSignIn, session: Any
) -> None:
    headers = app_sign_in.headers("RC1", "+919800000001")
    client = app_sign_in.client
    first = client.post(
        "/api/v1/consumer/RC1/devices", json={"token": DEVICE, "platform": "android"}, headers=headers
    )
    again = client.post("/api/v1/consumer/RC1/devices", json={"token": DEVICE}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["device_id"] == again.get_json()["device_id"]
    rows = session.execute(text("SELECT consumer_id, platform FROM device_tokens")).all()
    assert rows == [(people.ids["RC1"], "android")]
    other = client.post("/api/v1/consumer/RC2/devices", json={"token": DEVICE + "b"}, headers=headers)
    assert other.status_code == 404 and other.get_json()["error"] == "unknown_consumer"


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "token"), ({"token": "short"}, "token"), ({"token": DEVICE, "platform": "symbian"}, "platform"),
     ({"token": "x" * 513}, "token")],
)  # fmt: skip
def test_malformed_devices_are_422_and_nothing_is_stored(
    people: Consumers, app_sign_in: AppSignIn, session: Any, body: dict[str, Any], field: str
) -> None:
    headers = app_sign_in.headers("RC1", "+919800000001")
    answer = app_sign_in.client.post("/api/v1/consumer/RC1/devices", json=body, headers=headers)
    assert answer.status_code == 422 and field in answer.get_json()["errors"]["json"]
    assert session.execute(text("SELECT count(*) FROM device_tokens")).scalar_one() == 0


def test_notifications_are_the_consumers_own_without_sign_in_codes(
    people: Consumers, app_sign_in: AppSignIn, session: Any
) -> None:
    from service.notifications import notify

    for ivrs, key in (("RC1", "a"), ("RC1", "b"), ("RC2", "c")):
        notify(session(), consumer_id=people.ids[ivrs], message_type="reconnection",
               params={"ivrs": ivrs, "time": "20 Nov 17:30"}, dedupe_key=f"test:{key}", now=NOW)  # fmt: skip
    session.commit()
    headers = app_sign_in.headers("RC1", "+919800000001")  # sends RC1 a sign-in code too
    page = app_sign_in.client.get("/api/v1/consumer/RC1/notifications?limit=1", headers=headers).get_json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["message_type"] == "reconnection" and "RC1" in page["items"][0]["body"]
    rest = app_sign_in.client.get("/api/v1/consumer/RC1/notifications?limit=1&offset=1", headers=headers)
    assert rest.get_json()["items"][0]["id"] < page["items"][0]["id"]
    bad = app_sign_in.client.get("/api/v1/consumer/RC1/notifications?limit=1000", headers=headers)
    assert bad.status_code == 422 and "limit" in bad.get_json()["errors"]["query"]


def test_prepaid_balance_from_the_prepaid_face_and_postpaid_says_so(
    people: Consumers, app_sign_in: AppSignIn, session: Any
) -> None:
    from service.prepaid import to_prepaid

    to_prepaid(session(), people.ids["RC1"], effective_from=date(2026, 11, 1), opening_balance_inr=Decimal("250.50"),
               source_id="test-open-rc1", actor=Actor("system", "test"))  # fmt: skip
    session.commit()
    client = app_sign_in.client
    rc1 = client.get(
        "/api/v1/consumer/RC1/prepaid", headers=app_sign_in.headers("RC1", "+919800000001")
    ).get_json()
    assert rc1["prepaid"] is True and rc1["balance_inr"] == "250.50"
    # The ledger listing is not on the prepaid face yet: said so, not an empty list.
    assert rc1["ledger"]["available"] is False and "items" not in rc1["ledger"]
    rc2 = client.get(
        "/api/v1/consumer/RC2/prepaid", headers=app_sign_in.headers("RC2", "+919800000002")
    ).get_json()
    assert rc2 == {"prepaid": False}


def test_planned_outages_on_the_consumers_dt_from_the_outages_face(
    people: Consumers, app_sign_in: AppSignIn, session: Any
) -> None:
    unit = session.execute(text("SELECT id FROM org_units WHERE code = 'BPLC-D1'")).scalar_one()
    for dt, reason in (("CT1", "Maintenance on CT1"), ("OTHER", "Elsewhere")):
        session.execute(
            text(
                "INSERT INTO planned_outages (source, level, subject, dt_code, org_unit_id, starts_at, ends_at,"
                " reason, status, revision, consumers_affected, created_by) VALUES ('staff', 'dt', :dt, :dt, :unit, :s, :e,"
                " :reason, 'scheduled', 1, 3, 'test')"
            ),
            {
                "dt": dt,
                "unit": unit,
                "s": NOW + timedelta(days=1),
                "e": NOW + timedelta(days=1, hours=4),
                "reason": reason,
            },
        )
    session.commit()
    headers = app_sign_in.headers("RC1", "+919800000001")
    answer = app_sign_in.client.get("/api/v1/consumer/RC1/outages", headers=headers).get_json()
    assert answer["available"] is True
    ((outage,),) = [answer["items"]]
    assert (outage["kind"], outage["where"], outage["detail"]) == ("planned", "CT1", "Maintenance on CT1")
    assert outage["from"] == (NOW + timedelta(days=1)).isoformat()
