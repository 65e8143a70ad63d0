"""Planned outages from OMS (API key) and staff: workflows/outage_notification.bpmn tells exactly
the consumers on the DT as the network stands that day, again when extended, and on cancel."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, text

NOW = datetime(2030, 3, 4, 6, 30, tzinfo=UTC)  # 12:00 IST the day before
BODY = {
    "external_id": "OMS-1",
    "level": "dt",
    "code": "OD2",
    "starts_at": "2030-03-05T10:00:00+05:30",
    "ends_at": "2030-03-05T14:00:00+05:30",
    "reason": "DT maintenance",
}


@pytest.fixture
def clock(app: Flask) -> Iterator[list[datetime]]:
    now = [NOW]
    ports = app.extensions["cmdms.ports"]
    ports["clock"] = lambda: now[0]
    yield now
    ports["clock"] = None


@pytest.fixture
def moved(session: Any, grid: Any) -> Any:
    """OD1-C6 moved to OD2 from 1 March 2030 (effective-dated): OD2's outage is also theirs."""
    from service.masterdata.models import ConsumerSupplyLink

    since = datetime(2030, 2, 28, 18, 30, tzinfo=UTC)  # 1 Mar 00:00 IST
    consumer = grid.consumers["OD1-C6"]
    od2 = session.execute(text("SELECT id FROM dtrs WHERE code = 'OD2'")).scalar_one()
    session.execute(
        text("UPDATE consumer_supply_links SET valid_to = :t WHERE consumer_id = :c"),
        {"t": since, "c": consumer},
    )
    session.execute(insert(ConsumerSupplyLink).values(consumer_id=consumer, dtr_id=od2, valid_from=since))
    session.execute(text("UPDATE consumers SET language = 'hi' WHERE ivrs_number = 'OD2-C1'"))
    session.commit()
    return grid


def _notices(session: Any) -> list[tuple[Any, ...]]:
    session.rollback()
    return session.execute(
        text(
            "SELECT n.message_type, c.ivrs_number FROM notifications n JOIN consumers c ON c.id = n.consumer_id"
            " WHERE n.message_type LIKE 'planned_outage%' ORDER BY n.id"
        )
    ).all()


AFFECTED = ["OD1-C6", "OD2-C1", "OD2-C2", "OD2-C3", "OD2-C4"]


def test_notices_announce_extend_and_cancel_reach_exactly_the_consumers_on_the_dt_that_day(
    client: FlaskClient, make_api_key: Callable[..., dict[str, str]], moved: Any, session: Any,
    run_jobs: Callable[..., int], clock: list[datetime],
) -> None:  # fmt: skip
    oms = make_api_key("outages:write", system="oms")
    created = client.post("/api/v1/outages/planned", json=BODY, headers=oms)
    assert created.status_code == 201, created.get_json()
    outage = created.get_json()
    assert (outage["outcome"], outage["consumers_affected"], outage["source"]) == ("created", 5, "oms")
    run_jobs("default")
    notices = _notices(session)
    assert sorted(c for _, c in notices) == AFFECTED and {t for t, _ in notices} == {"planned_outage"}
    body_hi = session.execute(
        text(
            "SELECT n.language, n.body FROM notifications n JOIN consumers c ON c.id = n.consumer_id"
            " WHERE c.ivrs_number = 'OD2-C1'"
        )  # fmt: skip
    ).one()
    assert body_hi == (
        "hi",
        "DT OD2 में 05-03-2030 10:00 से 05-03-2030 14:00 तक रखरखाव हेतु बिजली बंद रहेगी। असुविधा के लिए खेद है। -CMDMS",
    )

    again = client.post("/api/v1/outages/planned", json=BODY, headers=oms)  # OMS re-sends it
    assert (again.status_code, again.get_json()["outcome"]) == (200, "unchanged")
    run_jobs("default")
    assert len(_notices(session)) == 5

    extended = client.post(
        "/api/v1/outages/planned", json=BODY | {"ends_at": "2030-03-05T16:00:00+05:30"}, headers=oms
    )
    assert (extended.status_code, extended.get_json()["outcome"], extended.get_json()["revision"]) == (
        200,
        "changed",
        2,
    )
    run_jobs("default")
    changed = [c for t, c in _notices(session) if t == "planned_outage_changed"]
    assert sorted(changed) == AFFECTED
    text_en = session.execute(
        text(
            "SELECT body FROM notifications n JOIN consumers c ON c.id = n.consumer_id"
            " WHERE c.ivrs_number = 'OD2-C2' AND message_type = 'planned_outage_changed'"
        )  # fmt: skip
    ).scalar_one()
    assert "from 05-03-2030 10:00 to 05-03-2030 16:00" in text_en

    cancelled = client.post(f"/api/v1/outages/planned/{outage['id']}/cancel", headers=oms)
    assert (cancelled.status_code, cancelled.get_json()["status"]) == (200, "cancelled")
    run_jobs("default")
    assert sorted(c for t, c in _notices(session) if t == "planned_outage_cancelled") == AFFECTED
    assert len(_notices(session)) == 15
    status = session.execute(text("SELECT status FROM process_instances WHERE business_key = :k"),
                             {"k": f"planned-outage:{outage['id']}"}).scalar_one()  # fmt: skip
    assert status == "completed"
    # A change after the cancellation is refused; cancelling again changes nothing.
    late = client.put(f"/api/v1/outages/planned/{outage['id']}", json=BODY, headers=oms)
    assert (late.status_code, late.get_json()["error"]) == (409, "cancelled")
    assert (
        client.post(f"/api/v1/outages/planned/{outage['id']}/cancel", headers=oms).get_json()["outcome"]
        == "unchanged"
    )


@pytest.mark.parametrize(
    ("change", "status", "error", "field"),
    [
        ({"starts_at": "2030-03-05T10:00:00"}, 422, "invalid_field", "starts_at"),
        ({"ends_at": "2030-03-05T09:00:00+05:30"}, 422, "invalid_period", "ends_at"),
        ({"ends_at": "2030-03-09T09:00:00+05:30"}, 422, "invalid_period", "ends_at"),
        ({"starts_at": "yesterday"}, 422, "invalid_field", "starts_at"),
        ({"code": "NO-SUCH-DT"}, 422, "unknown_subject", "code"),
        ({"level": "meter"}, 422, "invalid_field", "level"),
        ({"reason": "x" * 201}, 422, "invalid_field", "reason"),
        ({"reason": "  "}, 422, "invalid_field", "reason"),
        ({"external_id": "<script>" * 20}, 422, "invalid_field", "external_id"),
        ({"code": "OD1", "external_id": "OMS-1"}, 409, "external_id_reused", None),
    ],
)
def test_bad_planned_outages_are_refused_with_the_field_and_the_good_one_survives(
    client: FlaskClient, make_api_key: Callable[..., dict[str, str]], grid: Any, session: Any,
    clock: list[datetime], change: dict[str, Any], status: int, error: str, field: str | None,
) -> None:  # fmt: skip
    oms = make_api_key("outages:write", system="oms")
    assert client.post("/api/v1/outages/planned", json=BODY, headers=oms).status_code == 201
    refused = client.post("/api/v1/outages/planned", json=BODY | change, headers=oms)
    assert (refused.status_code, refused.get_json()["error"], refused.get_json().get("field")) == (
        status,
        error,
        field,
    )
    session.rollback()
    rows = session.execute(text("SELECT subject, reason, revision FROM planned_outages")).all()
    assert rows == [("OD2", "DT maintenance", 1)]


def test_malformed_oversized_unauthorised_and_out_of_area_requests(
    client: FlaskClient, make_api_key: Callable[..., dict[str, str]], grid: Any, session: Any,
    clock: list[datetime],
) -> None:  # fmt: skip
    oms = make_api_key("outages:write", system="oms")
    bad = client.post(
        "/api/v1/outages/planned", data="{not json", headers=oms | {"Content-Type": "application/json"}
    )
    assert (bad.status_code, bad.get_json()["error"]) == (400, "invalid_json")
    huge = client.post("/api/v1/outages/planned", json=BODY | {"reason": "x" * 20000}, headers=oms)
    assert (huge.status_code, huge.get_json()["error"]) == (413, "too_large")
    reader = make_api_key("outages:read", system="ccc")
    assert client.post("/api/v1/outages/planned", json=BODY, headers=reader).status_code == 403
    other = session.execute(text("SELECT id FROM org_units WHERE code = 'BPLC-D2'")).scalar_one()
    elsewhere = make_api_key("outages:write", system="oms-west", org_unit_id=other)
    outside = client.post("/api/v1/outages/planned", json=BODY, headers=elsewhere)
    assert (outside.status_code, outside.get_json()["error"]) == (422, "unknown_subject")
    assert session.execute(text("SELECT count(*) FROM planned_outages")).scalar_one() == 0


def test_the_consumer_360_seam_shows_planned_and_current_outages_on_the_consumers_dt(
    client: FlaskClient, make_api_key: Callable[..., dict[str, str]], moved: Any, session: Any,
    ingest: Any, clock: list[datetime],
) -> None:  # fmt: skip
    from service.consumers.seams import section
    from service.outages.detection import rebuild

    oms = make_api_key("outages:write", system="oms")
    assert client.post("/api/v1/outages/planned", json=BODY, headers=oms).status_code == 201
    other = BODY | {"external_id": "OMS-2", "code": "OD1"}
    assert client.post("/api/v1/outages/planned", json=other, headers=oms).status_code == 201
    # OD2 is off and not restored: three of its four meters sent a last gasp (ingest refuses
    # times after the wall clock, so this outage began before it).
    ingest([(f"OD2-M{i}", 101, "2026-12-02T05:30:00", None) for i in (1, 2, 3)])
    rebuild(session(), datetime(2026, 12, 2, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC))
    session.commit()
    moved_consumer = section("outages", session(), moved.consumers["OD1-C6"], NOW)
    assert moved_consumer.available
    assert [(r["kind"], r["where"], r["from"], r["until"]) for r in moved_consumer.rows] == [
        ("current", "OD2", datetime(2026, 12, 2, 5, 30, tzinfo=UTC), "ongoing"),
        ("planned", "OD2", datetime(2030, 3, 5, 4, 30, tzinfo=UTC), datetime(2030, 3, 5, 8, 30, tzinfo=UTC)),
    ]  # on OD2 since 1 March 2030: OD1's planned outage is not theirs
    on_od1 = section("outages", session(), moved.consumers["OD1-C1"], NOW)
    assert [(r["kind"], r["where"], r["detail"]) for r in on_od1.rows] == [
        ("planned", "OD1", "DT maintenance")
    ]
    cancelled = session.execute(text("SELECT id FROM planned_outages WHERE subject = 'OD1'")).scalar_one()
    assert client.post(f"/api/v1/outages/planned/{cancelled}/cancel", headers=oms).status_code == 200
    assert section("outages", session(), moved.consumers["OD1-C1"], NOW).rows == []
