"""Read API: exact JSON shapes, (start, end] windows, views, scoping and errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import select, text

from integrations.canonical import CanonicalBatch, Events, Registers
from tests.readings.conftest import DAY, day_of, intervals_batch

URL = "/api/v1/meters/M1/intervals"
WINDOW = {"start": "2026-10-05T00:15:00Z", "end": "2026-10-05T01:00:00Z"}


@pytest.fixture
def reader(make_api_key: Any) -> dict[str, str]:
    return make_api_key("readings:read", system="reports")


@pytest.fixture
def day(session: Any, meters: Any, ingest: Any) -> Any:
    """M1: kWh 0.1 .. 0.5 ending 00:15 .. 01:15 UTC; the 00:45 value marked failed by VEE."""
    result = ingest(
        intervals_batch(day_of("M1", [0.1, 0.2, 0.3, 0.4, 0.5]) + day_of("M1", [231.0], "voltage_r"))
    )
    session.execute(text("UPDATE interval_readings SET quality = 'valid' WHERE channel = 'kwh'"))
    session.execute(text("UPDATE interval_readings SET quality = 'failed' WHERE value = 0.3"))
    session.commit()
    return result


def test_intervals_answer_exact_shape_with_start_exclusive_and_end_inclusive(
    client: Any, reader: Any, day: Any
) -> None:
    response = client.get(URL, query_string=WINDOW, headers=reader)

    assert response.status_code == 200
    assert response.get_json() == {
        "meter": "M1",
        "channel": "kwh",
        "intervals": [
            {"end": "2026-10-05T00:30:00Z", "value": 0.2, "quality": "valid"},
            {"end": "2026-10-05T00:45:00Z", "value": 0.3, "quality": "failed"},
            {"end": "2026-10-05T01:00:00Z", "value": 0.4, "quality": "valid"},
        ],
    }


def test_validated_view_leaves_out_failed_and_raw_values(client: Any, reader: Any, day: Any) -> None:
    response = client.get(URL, query_string={**WINDOW, "view": "validated"}, headers=reader)
    assert [i["end"] for i in response.get_json()["intervals"]] == [
        "2026-10-05T00:30:00Z",
        "2026-10-05T01:00:00Z",
    ]
    voltage = client.get(
        URL, query_string={**WINDOW, "channel": "voltage_r", "view": "validated"}, headers=reader
    )
    assert voltage.get_json() == {"meter": "M1", "channel": "voltage_r", "intervals": []}


def test_start_and_end_with_offsets_are_read_as_the_instants_they_name(
    client: Any, reader: Any, day: Any
) -> None:
    response = client.get(
        URL, query_string={"start": "2026-10-05T05:30:00+05:30", "end": "2026-10-05T00:30:00"}, headers=reader
    )
    assert [i["value"] for i in response.get_json()["intervals"]] == [0.1, 0.2]


@pytest.mark.parametrize(
    ("query", "error", "message"),
    [
        (
            {"end": "2026-10-05T01:00:00Z"},
            "missing_parameter",
            "start is required (ISO 8601, e.g. 2026-10-05T00:00:00Z).",
        ),
        (
            {**WINDOW, "start": "05/10/2026"},
            "invalid_date",
            "start is not an ISO 8601 date-time: '05/10/2026'.",
        ),
        (
            {"start": "2026-10-05T01:00:00Z", "end": "2026-10-05T01:00:00Z"},
            "invalid_range",
            "start must be before end.",
        ),
        (
            {"start": "2026-10-05T00:00:00Z", "end": "2027-01-06T00:00:01Z"},
            "range_too_long",
            "The range may span at most 93 days.",
        ),
        (
            {**WINDOW, "channel": "kwh_total"},
            "unknown_channel",
            "Unknown channel 'kwh_total'; one of kwh, kvah, kvarh_lag, kvarh_lead, kwh_export, kvah_export,"
            " voltage_r, voltage_y, voltage_b, current_r, current_y, current_b, kwh_net, pf, frequency, kvarh_q2,"
            " kvarh_q3.",
        ),
        ({**WINDOW, "view": "clean"}, "invalid_view", "view must be 'raw' or 'validated'."),
    ],
)
def test_bad_query_is_refused_with_exact_error(
    client: Any, reader: Any, day: Any, query: dict[str, str], error: str, message: str
) -> None:
    response = client.get(URL, query_string=query, headers=reader)
    assert response.status_code == 400
    body = response.get_json()
    assert (body["error"], body["message"]) == (error, message)


def test_93_days_exactly_is_allowed(client: Any, reader: Any, day: Any) -> None:
    response = client.get(
        URL, query_string={"start": "2026-10-05T00:00:00Z", "end": "2027-01-06T00:00:00Z"}, headers=reader
    )
    assert response.status_code == 200


def test_unknown_meter_is_404(client: Any, reader: Any, day: Any) -> None:
    response = client.get("/api/v1/meters/NOPE/intervals", query_string=WINDOW, headers=reader)
    assert response.status_code == 404
    assert response.get_json() == {"error": "meter_not_found", "message": "No meter with serial 'NOPE'."}


def test_api_key_scoped_to_an_org_unit_sees_only_its_meters(
    client: Any, org: Any, meters: Any, make_api_key: Any, ingest: Any
) -> None:
    ingest(intervals_batch(day_of("M3", [1.0])))
    east = make_api_key("readings:read", system="east-app", org_unit_id=org["east"])
    west = make_api_key("readings:read", system="west-app", org_unit_id=org["west"])
    query = {"start": "2026-10-05T00:00:00Z", "end": "2026-10-06T00:00:00Z"}

    assert client.get("/api/v1/meters/M3/intervals", query_string=query, headers=east).status_code == 404
    answer = client.get("/api/v1/meters/M3/intervals", query_string=query, headers=west)
    assert answer.get_json()["intervals"] == [{"end": "2026-10-05T00:15:00Z", "value": 1.0, "quality": "raw"}]


def test_key_without_readings_scope_is_refused(client: Any, make_api_key: Any, meters: Any) -> None:
    headers = make_api_key("masterdata:read")
    response = client.get(URL, query_string=WINDOW, headers=headers)
    assert response.status_code == 403 and response.get_json()["error"] == "insufficient_scope"
    assert client.get(URL, query_string=WINDOW).status_code == 401


def test_logged_in_officer_sees_meters_of_own_division_only(session: Any, demo: Any, login: Any) -> None:
    from service.masterdata.models import Meter, OrgUnit

    def serial_under(code: str) -> str:
        return session.scalars(
            select(Meter.serial_number)
            .join(OrgUnit, OrgUnit.id == Meter.org_unit_id)
            .where(OrgUnit.path.like(f"%/{code}/%"))
            .limit(1)
        ).one()

    own, other = serial_under("BPLC-D1"), serial_under("SHR-D1")
    client = login("ee_east")
    query = {"start": "2026-10-05T00:00:00Z", "end": "2026-10-06T00:00:00Z"}
    assert client.get(f"/api/v1/meters/{own}/intervals", query_string=query).status_code == 200
    hidden = client.get(f"/api/v1/meters/{other}/intervals", query_string=query)
    assert hidden.status_code == 404 and hidden.get_json()["error"] == "meter_not_found"


def test_daily_and_monthly_totals_follow_ist_days(client: Any, reader: Any, meters: Any, ingest: Any) -> None:
    # 18:15 UTC 4 Oct = 23:45 IST (4 Oct); 18:30 UTC ends the last interval of 4 Oct IST;
    # 18:45 UTC = 00:15 IST 5 Oct.
    start = np.datetime64("2026-10-04T18:00:00", "s")
    ingest(intervals_batch(day_of("M1", [1.0, 2.0, 4.0, 8.0], start=start)))

    daily = client.get(
        "/api/v1/meters/M1/totals",
        query_string={"period": "daily", "start": "2026-10-04", "end": "2026-10-05"},
        headers=reader,
    )
    assert daily.get_json() == {
        "meter": "M1",
        "channel": "kwh",
        "period": "daily",
        "totals": [
            {"period_start": "2026-10-04", "value": 3.0, "intervals": 2},
            {"period_start": "2026-10-05", "value": 12.0, "intervals": 2},
        ],
    }
    monthly = client.get(
        "/api/v1/meters/M1/totals",
        query_string={"period": "monthly", "start": "2026-10-01", "end": "2026-10-31"},
        headers=reader,
    )
    assert monthly.get_json()["totals"] == [{"period_start": "2026-10-01", "value": 15.0, "intervals": 4}]
    validated = client.get(
        "/api/v1/meters/M1/totals",
        query_string={"period": "daily", "start": "2026-10-04", "end": "2026-10-05", "view": "validated"},
        headers=reader,
    )
    assert validated.get_json()["totals"] == []


def test_totals_refuse_channels_that_do_not_add_up(client: Any, reader: Any, meters: Any) -> None:
    response = client.get(
        "/api/v1/meters/M1/totals",
        query_string={"channel": "voltage_r", "start": "2026-10-04", "end": "2026-10-05"},
        headers=reader,
    )
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "Unknown channel 'voltage_r'; one of kwh, kvah, kvarh_lag, kvarh_lead, kwh_export, kvah_export."
    )


def test_registers_and_events_of_a_meter(client: Any, reader: Any, meters: Any, ingest: Any) -> None:
    ingest(
        CanonicalBatch(
            source="amr-cdf",
            registers=Registers(
                meter=np.array(["M1", "M1"], dtype=object),
                kind=np.array(["billing", "daily"], dtype=object),
                channel=np.array(["md_kw", "kwh"], dtype=object),
                tod_zone=np.array([2, 0], dtype=np.int16),
                read_at=np.array([DAY, DAY + np.timedelta64(1, "D")]),
                value=np.array([3.5, 1200.0]),
                occurred_at=np.array(["2026-09-20T08:15:00", "NaT"], dtype="datetime64[s]"),
                reading_status=np.array([None, None], dtype=object),
            ),
            events=Events(
                meter=np.array(["M1"], dtype=object),
                code=np.array([201], dtype=np.int32),
                occurred_at=np.array([DAY + np.timedelta64(3600, "s")]),
                restored_at=np.array(["NaT"], dtype="datetime64[s]"),
                snapshot=[{"kwh": 1100.5}],
            ),
        )
    )
    query = {"start": "2026-10-04T00:00:00Z", "end": "2026-10-06T00:00:00Z"}

    registers = client.get(
        "/api/v1/meters/M1/registers", query_string={**query, "kind": "billing"}, headers=reader
    )
    assert registers.get_json() == {
        "meter": "M1",
        "registers": [
            {
                "kind": "billing",
                "channel": "md_kw",
                "tod_zone": 2,
                "read_at": "2026-10-05T00:00:00Z",
                "value": 3.5,
                "occurred_at": "2026-09-20T08:15:00Z",
                "reading_status": None,
                "quality": "raw",
            }
        ],
    }
    assert (
        len(
            client.get("/api/v1/meters/M1/registers", query_string=query, headers=reader).get_json()[
                "registers"
            ]
        )
        == 2
    )
    bad_kind = client.get(
        "/api/v1/meters/M1/registers", query_string={**query, "kind": "weekly"}, headers=reader
    )
    assert bad_kind.status_code == 400 and bad_kind.get_json()["error"] == "unknown_kind"
    events = client.get("/api/v1/meters/M1/events", query_string=query, headers=reader)
    assert events.get_json() == {
        "meter": "M1",
        "events": [
            {
                "code": 201,
                "occurred_at": "2026-10-05T01:00:00Z",
                "restored_at": None,
                "snapshot": {"kwh": 1100.5},
            }
        ],
    }
