"""The control-centre page and the CCC API: live outages (open inferred, planned in progress) by
circle/division/feeder/DT, consumers affected, since when in IST, with the total, org-scoped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from service.outages.detection import rebuild

NOW = datetime(2026, 12, 2, 6, 30, tzinfo=UTC)  # 12:00 IST


@pytest.fixture
def live(app: Flask, session: Any, grid: Any, ingest: Any, client: FlaskClient,
         make_api_key: Callable[..., dict[str, str]]) -> Iterator[Any]:  # fmt: skip
    from service.masterdata.demo import DemoSummary, seed_users

    ports = app.extensions["cmdms.ports"]
    ports["clock"] = lambda: NOW
    seed_users(session(), DemoSummary())
    session.commit()
    # OD1: four of six meters off since 11:30 IST (open); OD2-M1 alone off since 11:40 IST.
    ingest([(f"OD1-M{i}", 101, "2026-12-02T06:00:00", None) for i in range(1, 5)]
           + [("OD2-M1", 101, "2026-12-02T06:10:00", None)])  # fmt: skip
    # OD2-M2 was off and came back: not live.
    ingest([("OD2-M2", 101, "2026-12-02T05:00:00", "2026-12-02T05:40:00")])
    rebuild(session(), datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC))
    session.commit()
    oms = make_api_key("outages:write", system="oms")
    planned = {"level": "dt", "code": "OD2", "starts_at": "2026-12-02T11:45:00+05:30",
               "ends_at": "2026-12-02T13:00:00+05:30", "reason": "line work"}  # fmt: skip
    assert client.post("/api/v1/outages/planned", json=planned, headers=oms).status_code == 201
    yield grid
    ports["clock"] = None


def test_the_ccc_api_lists_live_outages_with_total_pages_and_filters(
    live: Any, client: FlaskClient, make_api_key: Callable[..., dict[str, str]], session: Any
) -> None:
    ccc = make_api_key("outages:read", system="ccc-portal")
    answer = client.get("/api/v1/outages", headers=ccc).get_json()
    assert answer["total"] == 3 and answer["page"] == 1
    got = [(r["kind"], r["level"], r["subject"], r["circle"], r["division"], r["feeder_code"], r["dt_code"],
            r["consumers_affected"], r["since"]) for r in answer["items"]]  # fmt: skip
    service_meter = str(live.meters["OD2-M1"])
    assert got == [  # newest first
        ("planned", "dt", "OD2", "BPLC", "BPLC-D1", None, "OD2", 4, "2026-12-02T06:15:00+00:00"),
        ("inferred", "meter", service_meter, "BPLC", "BPLC-D1", "OF1", "OD2", 1, "2026-12-02T06:10:00+00:00"),
        ("inferred", "dt", "OD1", "BPLC", "BPLC-D1", "OF1", "OD1", 6, "2026-12-02T06:00:00+00:00"),
    ]
    dt_only = client.get("/api/v1/outages?level=dt&kind=inferred&sort=consumers", headers=ccc).get_json()
    assert [(r["subject"], r["consumers_affected"]) for r in dt_only["items"]] == [("OD1", 6)]
    paged = client.get("/api/v1/outages?per_page=25&page=9", headers=ccc).get_json()
    assert (paged["total"], paged["page"], len(paged["items"])) == (3, 1, 3)  # past the end: the last page
    assert client.get("/api/v1/outages?feeder=NOPE", headers=ccc).get_json() == {
        "items": [],
        "total": 0,
        "page": 1,
        "per_page": 50,
    }
    west = session.execute(text("SELECT id FROM org_units WHERE code = 'BPLC-D2'")).scalar_one()
    elsewhere = make_api_key("outages:read", system="ccc-west", org_unit_id=west)
    assert client.get("/api/v1/outages", headers=elsewhere).get_json()["total"] == 0
    assert client.get("/api/v1/outages").status_code == 401


def test_the_control_centre_page_shows_live_outages_in_ist_scoped_to_the_officer(
    live: Any, login: Callable[[str], FlaskClient]
) -> None:
    page = login("control").get("/outages").get_data(as_text=True)
    assert '<strong>1–3</strong> of <strong class="list-total">3</strong>' in page
    assert all(f"02 Dec 2026 {t} IST" in page for t in ("11:30", "11:40", "11:45", "13:00"))
    assert page.count('<span class="badge">inferred</span>') == 2
    filtered = login("control").get("/outages?division=BPLC-D1&dt=OD1").get_data(as_text=True)
    assert '<strong class="list-total">1</strong>' in filtered and "dt OD1" in filtered
    west = login("ee_west").get("/outages").get_data(as_text=True)  # BPLC-D2 sees none of BPLC-D1
    assert "No outage now in your area." in west
    assert login("ccc").get("/outages?export=csv").get_data(as_text=True).count("\n") == 4  # heading + 3
