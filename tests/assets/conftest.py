"""Two scalar consumers in one division and one in another, their meters' monthly reads stored
through ingest, meters in store, an API key for billing and one for URJAS, a set clock.

S1 (consumer A1) reads 1200 on 5 Oct and 1300 on 5 Nov 2026 (12:00 IST); S2 (consumer A2) reads
500 on 5 Nov; S9 is on B1 in the other division. N1, N2, N3 are in store; NX is no asset;
NI is issued (not in store). "Now" is Tuesday 1 December 2026, 11:00 IST.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from integrations.billing.client import sign
from service.audit.log import Actor
from tests.commands.conftest import add_hes, hes_sim, live_url  # noqa: F401  (shared fixtures)
from tests.consumption.conftest import scalar_batch as scalar_reads
from tests.disconnections.conftest import TUESDAY_11_IST, clock  # noqa: F401  (shared fixture)
from tests.processes.conftest import BILLING_SECRET, billing, drain  # noqa: F401  (shared fixtures)

NOW = TUESDAY_11_IST
INSTALLED = datetime(2026, 1, 1, tzinfo=UTC)
ACTOR = Actor("cli", "test")
READS = [
    ("S1", "2026-10-05T06:30:00", 1200.0),
    ("S1", "2026-11-05T06:30:00", 1300.0),
    ("S2", "2026-11-05T06:30:00", 500.0),
    ("S9", "2026-11-05T06:30:00", 800.0),
]


@dataclass
class Site:
    ids: dict[str, int] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def site(session: Any, request: pytest.FixtureRequest, run_jobs: Callable[..., int]) -> Site:
    from service.assets.moves import move
    from service.masterdata.models import Consumer, Installation, Meter, OrgUnit
    from service.readings.ingest import ingest_batch

    request.getfixturevalue("clock")  # the shared clock fixture, set to NOW
    s = Site()
    discom = OrgUnit(code="MPCZ", name="Central discom", level="discom", path="/MPCZ/")
    session.add(discom)
    session.flush()
    for code in ("DIV1", "DIV2"):
        unit = OrgUnit(code=code, name=code, level="division", parent_id=discom.id, path=f"/MPCZ/{code}/")
        session.add(unit)
        session.flush()
        s.orgs[code] = unit.id
    for ivrs, serial, div in (("A1", "S1", "DIV1"), ("A2", "S2", "DIV1"), ("B1", "S9", "DIV2")):
        consumer = Consumer(ivrs_number=ivrs, name=f"Consumer {ivrs}", tariff_category="LV1",
                            sanctioned_load=Decimal(2), org_unit_id=s.orgs[div])  # fmt: skip
        meter = Meter(serial_number=serial, make="Genus", meter_class="scalar", org_unit_id=s.orgs[div])
        session.add_all([consumer, meter])
        session.flush()
        session.add(Installation(meter_id=meter.id, consumer_id=consumer.id, installed_at=INSTALLED))
        s.ids[ivrs], s.ids[serial] = consumer.id, meter.id
    for serial in ("N1", "N2", "N3", "NX", "NI", "SM1"):
        meter_class = "smart_1ph" if serial == "SM1" else "scalar"
        meter = Meter(serial_number=serial, make="HPL", meter_class=meter_class, org_unit_id=s.orgs["DIV1"])
        session.add(meter)
        session.flush()
        s.ids[serial] = meter.id
        if serial != "NX":
            move(session, meter.id, "in_store", INSTALLED, ACTOR, "delivered")
    move(session, s.ids["NI"], "issued", INSTALLED, ACTOR, "to a crew")
    ingest_batch(session, scalar_reads(READS), actor=ACTOR)
    session.commit()
    run_jobs("vee")
    return s


@pytest.fixture
def billing_key(make_api_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_api_key("assets:write", system="billing")


@pytest.fixture
def urjas_key(make_api_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_api_key("assets:write", system="urjas")


@pytest.fixture
def smart_site(site: Site, session: Any, request: pytest.FixtureRequest) -> Site:
    """The site plus HES-A (the command simulator, calling back a live server) and SM2, a smart
    meter behind it in store."""
    from service.assets.moves import move
    from service.masterdata.models import Meter

    add, simulator = request.getfixturevalue("add_hes"), request.getfixturevalue("hes_sim")

    add("HES-A", simulator.base_url, "json")
    meter = Meter(serial_number="SM2", make="HPL", meter_class="smart_1ph", communication="rf",
                  hes_code="HES-A", org_unit_id=site.orgs["DIV1"])  # fmt: skip
    session.add(meter)
    session.flush()
    move(session, meter.id, "in_store", INSTALLED, ACTOR, "delivered")
    session.commit()
    site.ids["SM2"] = meter.id
    return site


def post_decision(client: FlaskClient, data: dict[str, Any], key: str) -> Any:
    body = json.dumps({"type": "replacement.decision", "data": data}).encode()
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-CMDMS-Timestamp": stamp,
               "X-CMDMS-Signature": sign(BILLING_SECRET, stamp, body), "Idempotency-Key": key}  # fmt: skip
    return client.post("/api/v1/webhooks/billing", data=body, headers=headers)


def submit_to_billing(
    client: FlaskClient, key: dict[str, str], run_jobs: Any, run_outbox: Any, hes: Any, body: dict[str, Any]
) -> int:
    """POST a smart replacement and run HES and outbox until the posting reached billing."""
    answer = client.post("/api/v1/replacements", json=body, headers=key)
    assert answer.status_code == 202, answer.json
    assert answer.json["state"] == "commissioning"
    for _ in range(3):
        run_outbox()
        run_jobs("default", "urgent")
        hes.wait_idle()
    run_outbox()
    return int(answer.json["replacement_id"])
