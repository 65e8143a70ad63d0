"""CIM EndDeviceEvents end to end: verbs update the stored event, unmapped types are kept, listed
with counts, and reclassified once the mapping file names them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text

from integrations.cim.event_types import MAPPING_FILE, unmapped_code
from tests.integrations import cim_messages as m
from tests.readings.cim_replies import read_reply
from tests.readings.conftest import add_meter

XML = {"Content-Type": "text/xml"}
PATH = "/api/v1/cim/end-device-events"
UNMAPPED = "3.2.22.150"


@pytest.fixture
def org_units(session: Any) -> dict[str, int]:
    from service.masterdata.models import OrgUnit

    def unit(code: str, parent: int | None, path: str) -> int:
        return session.execute(
            insert(OrgUnit)
            .values(
                code=code, name=code, level="division" if parent else "discom", parent_id=parent, path=path
            )
            .returning(OrgUnit.id)
        ).scalar_one()

    top = unit("T", None, "/T/")
    ids = {"T": top, "E": unit("E", top, "/T/E/"), "W": unit("W", top, "/T/W/")}
    add_meter(session, "S00000201", ids["E"])
    add_meter(session, "S00000202", ids["W"])
    session.commit()
    return ids


@pytest.fixture
def writer(make_api_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_api_key("readings:write", "events:write", "readings:read", system="hes-mp")


def events(session: Any) -> list[tuple[str, int, str, str | None, dict[str, Any]]]:
    rows = session.execute(
        text(
            "SELECT m.serial_number, e.code, to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
            " to_char(e.restored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), e.snapshot"
            " FROM meter_events e JOIN meters m ON m.id = e.meter_id ORDER BY 1, 3, 2"
        )
    )
    return [tuple(r) for r in rows]


def message(*events_xml: str, verb: str = "created", message_id: str = "ev-1") -> bytes:
    wrapper = {
        "created": "CreatedEndDeviceEvents",
        "closed": "ClosedEndDeviceEvents",
        "canceled": "CanceledEndDeviceEvents",
    }[verb]
    return m.soap_wrapped(
        wrapper, "EndDeviceEvents", m.end_device_events("".join(events_xml)), verb=verb, message_id=message_id
    )


POWER_DOWN = m.end_device_event("pd-1", "2026-11-27T14:10:05+05:30", "3.26.38.85")
STRANGE = m.end_device_event("x-1", "2026-11-27T15:00:00+05:30", UNMAPPED)
DETAILS = {"voltage_r": 228.4, "cim_severity": "alarm"}


def test_closed_event_sets_the_restoration_of_the_stored_one(
    client: Any, session: Any, org_units: Any, writer: Any
) -> None:
    assert (
        read_reply(client.post(PATH, data=message(POWER_DOWN), headers={**writer, **XML}).data)["result"]
        == "OK"
    )
    closed = POWER_DOWN.replace("<severity>alarm</severity>", "<severity>alarm</severity>").replace(
        '<EndDeviceEventType ref="3.26.38.85"/>',
        '<EndDeviceEventType ref="3.26.38.85"/><status><dateTime>2026-11-27T14:40:00+05:30</dateTime><value>closed</value></status>',
    )
    reply = read_reply(
        client.post(
            PATH, data=message(closed, verb="closed", message_id="ev-2"), headers={**writer, **XML}
        ).data
    )
    assert (reply["result"], reply["header"]["CorrelationID"]) == ("OK", "ev-2")
    assert events(session) == [
        (
            "S00000201",
            101,
            "2026-11-27 08:40:05",
            "2026-11-27 09:10:00",
            {**DETAILS, "cim_mrid": "pd-1", "cim_type": "3.26.38.85", "cim_status": "closed"},
        )
    ]
    revisions = session.execute(
        text("SELECT measure, old_extra->>'restored_at', new_extra->>'restored_at' FROM reading_revisions")
    ).all()
    assert [(r[0], r[1], r[2] is not None) for r in revisions] == [("event", None, True)]


def test_cancelled_event_is_kept_and_marked(client: Any, session: Any, org_units: Any, writer: Any) -> None:
    client.post(PATH, data=message(POWER_DOWN), headers={**writer, **XML})
    client.post(PATH, data=message(POWER_DOWN, verb="canceled", message_id="ev-3"), headers={**writer, **XML})
    (row,) = events(session)
    assert (row[1], row[4]["cim_status"]) == (101, "cancelled")


def test_unmapped_event_type_is_stored_listed_and_reclassified_when_the_mapping_changes(
    app: Any, client: Any, session: Any, org_units: Any, writer: Any, tmp_path: Path, make_api_key: Any
) -> None:
    mapping = tmp_path / "event_types.csv"
    mapping.write_text(MAPPING_FILE.read_text())
    config = app.extensions["cmdms.config"]
    app.extensions["cmdms.config"] = config.with_(cim_event_types_file=str(mapping))
    try:
        second = m.end_device_event("x-2", "2026-11-27T16:00:00+05:30", UNMAPPED, asset="S00000202")
        reply = read_reply(
            client.post(PATH, data=message(POWER_DOWN, STRANGE, second), headers={**writer, **XML}).data
        )
        assert (reply["result"], reply["errors"]) == ("OK", [])
        code = unmapped_code(UNMAPPED)
        assert [(r[0], r[1], r[4].get("cim_type"), r[4].get("unmapped")) for r in events(session)] == [
            ("S00000201", 101, "3.26.38.85", None),
            ("S00000201", code, UNMAPPED, True),
            ("S00000202", code, UNMAPPED, True),
        ]
        listing = client.get("/api/v1/cim/event-types/unmapped", headers=writer).get_json()
        assert listing == {
            "total": 1,
            "page": 1,
            "page_size": 50,
            "items": [
                {
                    "cim_type": UNMAPPED,
                    "events": 2,
                    "meters": 2,
                    "first_at": "2026-11-27T15:00:00+05:30",
                    "last_at": "2026-11-27T16:00:00+05:30",
                }
            ],
        }
        east = make_api_key("readings:read", system="east-viewer", org_unit_id=org_units["E"])
        assert (
            client.get("/api/v1/cim/event-types/unmapped", headers=east).get_json()["items"][0]["events"] == 1
        )
        # Nothing maps it yet: a reclassify changes nothing.
        assert client.post("/api/v1/cim/event-types/reclassify", headers=writer).get_json() == {
            "types": 0,
            "events": 0,
        }
        mapping.write_text(MAPPING_FILE.read_text() + f"{UNMAPPED},201,magnet (vendor code)\n")
        from service.readings.jobs import reclassify_event_types

        assert reclassify_event_types() == {"types": 1, "events": 2}
        assert [
            (r[0], r[1], r[4].get("unmapped"), r[4].get("reclassified_from")) for r in events(session)
        ] == [
            ("S00000201", 101, None, None),
            ("S00000201", 201, None, code),
            ("S00000202", 201, None, code),
        ]
        assert client.get("/api/v1/cim/event-types/unmapped", headers=writer).get_json()["total"] == 0
        # New events of the type are stored mapped from now on.
        later = m.end_device_event("x-3", "2026-11-27T17:00:00+05:30", UNMAPPED)
        client.post(PATH, data=message(later, message_id="ev-9"), headers={**writer, **XML})
        assert events(session)[2][1:3] == (201, "2026-11-27 11:30:00")
        audited = (
            session.execute(text("SELECT entity_key FROM audit_log WHERE action = 'reclassify'"))
            .scalars()
            .all()
        )
        assert audited == [UNMAPPED]
    finally:
        app.extensions["cmdms.config"] = config
