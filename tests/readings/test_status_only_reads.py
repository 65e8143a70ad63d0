"""Status-only monthly scalar reads (door locked, meter burnt ...): stored with no value, end to end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from integrations.billing.scalar_reads import scalar_reads_csv, scalar_reads_json
from integrations.canonical import CanonicalBatch, Registers
from service.readings.partitions import ensure_partitions, months_between

JSON = {"Content-Type": "application/json"}
CSV = {"Content-Type": "text/csv"}
READ_AT = "2026-11-05T12:00:00+05:30"  # 06:30 UTC
WINDOW = "start=2026-11-05T00:00:00Z&end=2026-11-06T00:00:00Z"


@pytest.fixture
def writer(make_api_key: Any) -> dict[str, str]:
    return make_api_key("readings:write", system="billing")


@pytest.fixture
def reader(make_api_key: Any) -> dict[str, str]:
    return make_api_key("readings:read", system="reports")


def stored(session: Any, meter_id: int) -> list[tuple[Any, ...]]:
    session.expire_all()
    rows = session.execute(
        text(
            "SELECT kind, channel, tod_zone, value, reading_status, quality FROM register_reads"
            " WHERE meter_id = :m ORDER BY read_at, channel"
        ),
        {"m": meter_id},
    )
    return [tuple(r) for r in rows]


def post(client: Any, headers: dict[str, str], form: str, reads: list[dict[str, Any]]) -> dict[str, Any]:
    if form == "json":
        body, content = scalar_reads_json(reads, source="reading_app"), JSON
    else:
        body, content = scalar_reads_csv(reads), CSV
    answer = client.post("/api/v1/billing/scalar-reads", data=body, headers={**headers, **content})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("form", ["json", "csv"])
def test_a_door_locked_read_with_no_value_is_stored_with_null_and_answered_with_its_status(
    client: Any, session: Any, meters: dict[str, int], writer: Any, reader: Any, form: str
) -> None:
    body = post(client, writer, form, [{"meter": "M1", "read_at": READ_AT, "status": "door_locked"}])
    assert (body["stored"], body["rejected"]) == (1, [])
    assert stored(session, meters["M1"]) == [("scalar", "kwh", 0, None, "door_locked", "raw")]

    answer = client.get(f"/api/v1/meters/M1/registers?{WINDOW}", headers=reader)
    assert answer.status_code == 200
    assert answer.get_json()["registers"] == [
        {
            "kind": "scalar",
            "channel": "kwh",
            "tod_zone": 0,
            "read_at": "2026-11-05T06:30:00Z",
            "value": None,
            "occurred_at": None,
            "reading_status": "door_locked",
            "quality": "raw",
        }
    ]


@pytest.mark.parametrize("form", ["json", "csv"])
def test_re_delivered_status_only_read_is_unchanged_and_a_later_value_is_a_revision(
    client: Any, session: Any, meters: dict[str, int], writer: Any, form: str
) -> None:
    door_locked = {"meter": "M1", "read_at": READ_AT, "status": "door_locked"}
    post(client, writer, form, [door_locked])
    again = post(client, writer, form, [door_locked])
    assert (again["stored"], again["unchanged"], again["revised"]) == (0, 1, 0)
    assert session.execute(text("SELECT count(*) FROM reading_revisions")).scalar_one() == 0

    # The reader went back and read the display.
    later = post(client, writer, form, [{**door_locked, "status": "normal", "kwh": 4521.5}])
    assert (later["stored"], later["unchanged"], later["revised"]) == (0, 0, 1)
    assert stored(session, meters["M1"]) == [("scalar", "kwh", 0, 4521.5, "normal", "raw")]
    revision = session.execute(
        text(
            "SELECT measure, key, old_value, old_extra, new_value, new_extra, applied FROM reading_revisions"
        )
    ).one()
    assert revision.measure == "register" and revision.key == {"kind": "scalar", "tod_zone": 0}
    assert (revision.old_value, revision.new_value, revision.applied) == (None, 4521.5, True)
    assert revision.old_extra["reading_status"] == "door_locked"
    assert revision.new_extra["reading_status"] == "normal"


def test_status_only_read_of_an_unknown_meter_is_quarantined_and_replayed_without_value(
    client: Any, session: Any, org: dict[str, int], writer: Any
) -> None:
    from service.readings.replay import replay
    from tests.readings.conftest import add_meter

    body = post(client, writer, "json", [{"meter": "NEW-1", "read_at": READ_AT, "status": "meter_burnt"}])
    assert (body["stored"], body["quarantined"]) == (0, 1)
    payload = session.execute(text("SELECT payload FROM quarantined_readings")).scalar_one()
    assert payload["value"] == [None] and payload["reading_status"] == ["meter_burnt"]
    meter_id = add_meter(session, "NEW-1", org["east"])
    assert replay(session())["stored"] == 1
    session.commit()
    assert stored(session, meter_id) == [("scalar", "kwh", 0, None, "meter_burnt", "raw")]


def _registers(kind: str, status: str | None, value: float) -> CanonicalBatch:
    return CanonicalBatch(
        source="test",
        registers=Registers(
            meter=np.array(["M1"], dtype=object),
            kind=np.array([kind], dtype=object),
            channel=np.array(["kwh"], dtype=object),
            tod_zone=np.zeros(1, dtype=np.int16),
            read_at=np.array(["2026-11-05T06:30:00"], dtype="datetime64[s]"),
            value=np.array([value], dtype=np.float64),
            occurred_at=np.full(1, np.datetime64("NaT"), dtype="datetime64[s]"),
            reading_status=np.array([status], dtype=object),
        ),
    )


MISSING = "value is missing; only a scalar read with a status other than normal may have none"


@pytest.mark.parametrize(
    ("kind", "status", "value", "field", "reason"),
    [
        ("daily", None, np.nan, "value", "value is not a number"),
        ("billing", "door_locked", np.nan, "value", "value is not a number"),
        ("scalar", "normal", np.nan, "value", MISSING),
        ("scalar", None, np.nan, "value", MISSING),
        ("scalar", "door_locked", np.inf, "value", "value is not a number"),
        ("scalar", "on_holiday", np.nan, "reading_status", "unknown reading status 'on_holiday'"),
    ],
)
def test_the_store_refuses_a_missing_value_except_for_a_scalar_read_with_another_status(
    session: Any,
    meters: dict[str, int],
    ingest: Any,
    kind: str,
    status: str | None,
    value: float,
    field: str,
    reason: str,
) -> None:
    result = ingest(_registers(kind, status, value))
    assert [(r["locator"], r["field"], r["reason"]) for r in result.rejects] == [
        ("registers[0]", field, reason)
    ]
    assert stored(session, meters["M1"]) == []


def test_the_database_itself_refuses_a_null_value_for_anything_but_a_status_only_scalar_read(
    session: Any, meters: dict[str, int]
) -> None:
    at = datetime(2026, 11, 5, 6, 30, tzinfo=UTC)
    ensure_partitions(session(), "register_reads", months_between(at, at))
    session.commit()
    insert_null = text(
        "INSERT INTO register_reads (meter_id, kind, channel, tod_zone, read_at, value, reading_status,"
        " quality, source, batch_id) VALUES (:m, :kind, 'kwh', 0, :at, NULL, :status, 'raw', 't', 0)"
    )
    for kind, status in (("scalar", "normal"), ("scalar", None), ("daily", "door_locked")):
        with pytest.raises(IntegrityError, match="ck_register_reads_value_present"):
            session.execute(insert_null, {"m": meters["M1"], "at": at, "kind": kind, "status": status})
        session.rollback()
    session.execute(insert_null, {"m": meters["M1"], "at": at, "kind": "scalar", "status": "door_locked"})
    session.commit()
    assert stored(session, meters["M1"]) == [("scalar", "kwh", 0, None, "door_locked", "raw")]
