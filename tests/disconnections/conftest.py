"""A discom with two divisions of smart-meter consumers, their officers, the control-centre authority,
the HES simulator calling back through a live server, SMS through the Twilio stand-in, a set clock."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.commands.conftest import add_hes, hes_sim, live_url  # noqa: F401  (shared fixtures)
from tests.notifications.conftest import engine, fcm, twilio, wired  # noqa: F401  (shared fixtures)

PASSWORD = "disconnect-test-pw"
# Tuesday 1 December 2026, 11:00 IST: a working day inside working hours.
TUESDAY_11_IST = datetime(2026, 12, 1, 5, 30, tzinfo=UTC)


@dataclass
class World:
    division_ids: dict[str, int]
    ivrs: dict[str, list[str]] = field(default_factory=dict)  # division code -> IVRS numbers
    consumer_ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def clock(app: Flask) -> Iterator[list[datetime]]:
    """The app's clock port, set by the test (a one-item list the test may move)."""
    now = [TUESDAY_11_IST]
    ports = app.extensions["cmdms.ports"]
    ports["clock"] = lambda: now[0]
    yield now
    ports["clock"] = None


def make_world(session: Any, per_division: int = 25, hes_code: str = "HES-A") -> World:
    from service.audit.log import Actor
    from service.auth.users import create_user
    from service.masterdata.models import Consumer, Installation, Meter, OrgUnit

    discom = OrgUnit(code="MPCZ", name="Central discom", level="discom", path="/MPCZ/")
    session.add(discom)
    session.flush()
    world = World({})
    for n in (1, 2):
        division = OrgUnit(code=f"DIV{n}", name=f"Division {n}", level="division", parent_id=discom.id,
                           path=f"/MPCZ/DIV{n}/")  # fmt: skip
        session.add(division)
        session.flush()
        dc = OrgUnit(
            code=f"DC{n}", name=f"DC {n}", level="dc", parent_id=division.id, path=f"/MPCZ/DIV{n}/DC{n}/"
        )
        session.add(dc)
        session.flush()
        world.division_ids[f"DIV{n}"] = division.id
        world.ivrs[f"DIV{n}"] = []
        for i in range(per_division):
            number = f"N{n}{i:04d}"
            consumer = Consumer(
                ivrs_number=number, name=f"Consumer {number}", mobile=f"98{n}{i:07d}", language="en",
                tariff_category="LV1", sanctioned_load=Decimal("2.000"), org_unit_id=dc.id,
            )  # fmt: skip
            meter = Meter(serial_number=f"SM{n}{i:05d}", make="Genus", meter_class="smart_1ph",
                          communication="rf", hes_code=hes_code, org_unit_id=dc.id)  # fmt: skip
            session.add_all([consumer, meter])
            session.flush()
            session.add(
                Installation(
                    meter_id=meter.id, consumer_id=consumer.id, installed_at=datetime(2025, 1, 1, tzinfo=UTC)
                )
            )
            world.ivrs[f"DIV{n}"].append(number)
            world.consumer_ids[number] = consumer.id
    actor = Actor("cli", "test")
    create_user(session, "officer1", PASSWORD, "field_officer", "DIV1", actor, mobile="9826000001")
    create_user(session, "officer2", PASSWORD, "field_officer", "DIV2", actor, mobile="9826000002")
    create_user(session, "authority", PASSWORD, "control_centre", "MPCZ", actor, mobile="9826000003")
    session.commit()
    return world


@pytest.fixture
def world(session: Any) -> World:
    return make_world(session)


class Staff:
    """A logged-in person calling the staff API with the CSRF token of their session."""

    def __init__(self, client: FlaskClient, username: str) -> None:
        self.client = client
        page = client.get("/login").get_data(as_text=True)
        token = _token(page)
        answer = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert answer.status_code == 302, answer.get_data(as_text=True)
        self.token = _token(client.get("/").get_data(as_text=True))

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, json=body or {}, headers={"X-CSRFToken": self.token})

    def get(self, path: str) -> Any:
        return self.client.get(path)


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def staff(app: Flask) -> Callable[[str], Staff]:
    from tests.conftest import IsolatedClient

    def login(username: str) -> Staff:
        app.test_client_class = IsolatedClient
        return Staff(app.test_client(), username)

    return login
