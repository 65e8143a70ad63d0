"""Effective-dated parent links, meter installations and replacements, the org hierarchy."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from service.audit.models import AuditEntry
from service.masterdata.models import (
    Consumer,
    ConsumerSupplyLink,
    Dtr,
    DtrFeederLink,
    Feeder,
    FeederSubstationLink,
    Installation,
    Meter,
    OrgUnit,
)
from tests.masterdata.conftest import consumer_row, meter_row


def _links(session, consumer_ivrs: str) -> list[tuple[str | None, datetime, datetime | None]]:
    cid = session.scalar(select(Consumer.id).where(Consumer.ivrs_number == consumer_ivrs))
    rows = session.execute(
        select(Dtr.code, ConsumerSupplyLink.valid_from, ConsumerSupplyLink.valid_to)
        .outerjoin(Dtr, Dtr.id == ConsumerSupplyLink.dtr_id)
        .where(ConsumerSupplyLink.consumer_id == cid)
        .order_by(ConsumerSupplyLink.valid_from)
    )
    return [tuple(r) for r in rows]


def test_moving_a_consumer_to_another_dtr_closes_the_old_link_and_opens_a_new_one(
    demo, post_rows, session
) -> None:
    post_rows("consumers", [consumer_row("N9000000001")])
    moved = consumer_row("N9000000001", dtr_code="DTR-0002", effective_from="2025-01-15T10:00:00+05:30")

    result = post_rows("consumers", [moved]).get_json()

    assert (result["updated"], result["rejected"]) == (1, [])
    switch = datetime(2025, 1, 15, 4, 30, tzinfo=UTC)
    assert _links(session, "N9000000001") == [
        ("DTR-0001", datetime(2024, 3, 31, 18, 30, tzinfo=UTC), switch),
        ("DTR-0002", switch, None),
    ]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_key == "N9000000001")).all()[-1]
    assert entry.before == {"dtr_code": "DTR-0001", "feeder_code": None}
    assert entry.after["dtr_code"] == "DTR-0002"
    assert entry.after["effective_from"] == "2025-01-15T10:00:00+05:30"
    # the same move again is no change
    assert post_rows("consumers", [moved]).get_json()["unchanged"] == 1


def test_ht_consumer_moved_from_dtr_to_a_feeder(demo, post_rows, session) -> None:
    post_rows("consumers", [consumer_row("N9000000001")])
    row = consumer_row("N9000000001", dtr_code=None, feeder_code="FDR-001", effective_from="2025-02-01")
    assert post_rows("consumers", [row]).get_json()["updated"] == 1
    cid = session.scalar(select(Consumer.id).where(Consumer.ivrs_number == "N9000000001"))
    open_link = session.scalar(
        select(ConsumerSupplyLink).where(
            ConsumerSupplyLink.consumer_id == cid, ConsumerSupplyLink.valid_to.is_(None)
        )
    )
    assert open_link.dtr_id is None and open_link.feeder_id is not None


def test_link_change_effective_before_the_current_link_is_rejected(demo, post_rows, session) -> None:
    post_rows("consumers", [consumer_row("N9000000001")])
    early = consumer_row("N9000000001", dtr_code="DTR-0002", effective_from="2024-03-01T00:00:00+05:30")
    result = post_rows("consumers", [early]).get_json()
    assert result["rejected"] == [
        {
            "index": 0,
            "key": "N9000000001",
            "field": "effective_from",
            "reason": "must be after the current link's start 2024-03-31T18:30:00+00:00",
        }
    ]
    assert [code for code, _, _ in _links(session, "N9000000001")] == ["DTR-0001"]


def test_dtr_moved_to_another_feeder_and_feeder_to_another_substation(demo, post_rows, session) -> None:
    dtr = {"code": "DTR-0001", "name": "moved", "capacity_kva": "100", "org_unit_code": "BPLC-D1-S1-DC1"}
    result = post_rows("dtrs", [{**dtr, "feeder_code": "FDR-002", "effective_from": "2025-03-01"}])
    assert result.get_json()["updated"] == 1
    dtr_id = session.scalar(select(Dtr.id).where(Dtr.code == "DTR-0001"))
    links = session.execute(
        select(Feeder.code, DtrFeederLink.valid_to)
        .join(Feeder, Feeder.id == DtrFeederLink.feeder_id)
        .where(DtrFeederLink.dtr_id == dtr_id)
        .order_by(DtrFeederLink.valid_from)
    ).all()
    assert [code for code, _ in links][-1] == "FDR-002" and links[-1][1] is None and links[0][1] is not None

    feeder = session.scalar(select(Feeder).where(Feeder.code == "FDR-001"))
    row = {
        "code": "FDR-001",
        "name": feeder.name,
        "voltage_kv": "11",
        "feeder_type": feeder.feeder_type,
        "org_unit_code": "BPLC-D1-S1-DC1",
        "substation_code": "SS-132-BPL",
    }
    assert post_rows("feeders", [row]).get_json()["updated"] == 1
    open_links = session.scalars(
        select(FeederSubstationLink).where(
            FeederSubstationLink.feeder_id == feeder.id, FeederSubstationLink.valid_to.is_(None)
        )
    ).all()
    assert len(open_links) == 1


def test_new_meter_installed_on_a_consumer_then_moved_closes_the_old_installation(
    demo, post_rows, session
) -> None:
    post_rows("consumers", [consumer_row("N9000000001"), consumer_row("N9000000002")])
    assert post_rows("meters", [meter_row("S99000001")]).get_json()["created"] == 1
    first = {
        "meter_serial": "S99000001",
        "ivrs_number": "N9000000001",
        "installed_at": "2024-05-01T10:00:00+05:30",
        "initial_kwh": "0.5",
    }
    assert post_rows("installations", [first]).get_json()["created"] == 1
    moved = {
        "meter_serial": "S99000001",
        "ivrs_number": "N9000000002",
        "installed_at": "2025-01-10T11:00:00+05:30",
        "initial_kwh": "1520.25",
        "previous_final_kwh": "1520.25",
    }

    result = post_rows("installations", [moved]).get_json()

    assert (result["created"], result["rejected"]) == (1, [])
    meter_id = session.scalar(select(Meter.id).where(Meter.serial_number == "S99000001"))
    history = session.scalars(
        select(Installation).where(Installation.meter_id == meter_id).order_by(Installation.installed_at)
    ).all()
    assert len(history) == 2
    assert history[0].removed_at == history[1].installed_at
    assert str(history[0].final_kwh) == "1520.250"
    assert history[1].removed_at is None
    closing = session.scalar(
        select(AuditEntry).where(AuditEntry.entity == "installation", AuditEntry.action == "update")
    )
    assert closing.entity_key == "S99000001@2024-05-01T04:30:00+00:00"
    assert closing.after["replaced_by"] == "S99000001@2025-01-10T05:30:00+00:00"
    # repeating both rows changes nothing
    again = post_rows("installations", [first, moved]).get_json()
    assert (again["unchanged"], again["created"], again["updated"]) == (2, 0, 0)


def test_installation_rows_with_unknown_meter_or_target_are_rejected(demo, post_rows, session) -> None:
    serial = session.scalar(select(Meter.serial_number).order_by(Meter.id).limit(1))
    rows = [
        {"meter_serial": "NOPE", "ivrs_number": "N9000000001", "installed_at": "2025-01-01T00:00:00Z"},
        {"meter_serial": serial, "ivrs_number": "N0000000000", "installed_at": "2025-01-01T00:00:00Z"},
        {"meter_serial": serial, "installed_at": "2025-01-01T00:00:00Z"},
        {
            "meter_serial": serial,
            "dtr_code": "DTR-0001",
            "installed_at": "2025-01-01T00:00:00Z",
            "removed_at": "2024-01-01T00:00:00Z",
        },
    ]
    result = post_rows("installations", rows).get_json()
    assert [(r["index"], r["field"], r["reason"]) for r in result["rejected"]] == [
        (0, "meter_serial", "unknown meter 'NOPE'"),
        (1, "ivrs_number", "unknown consumer 'N0000000000'"),
        (2, "ivrs_number", "Give exactly one of ivrs_number, feeder_code, dtr_code."),
        (3, "removed_at", "Must not be before installed_at."),
    ]


def test_installation_before_the_open_one_is_rejected_as_an_overlap(demo, post_rows, session) -> None:
    meter = session.scalar(select(Meter).where(Meter.meter_class == "dt"))
    open_since = session.scalar(
        select(Installation.installed_at).where(
            Installation.meter_id == meter.id, Installation.removed_at.is_(None)
        )
    )
    row = {
        "meter_serial": meter.serial_number,
        "dtr_code": "DTR-0002",
        "installed_at": "2019-01-01T00:00:00Z",
    }
    result = post_rows("installations", [row]).get_json()
    assert result["rejected"][0]["field"] == "installed_at"
    assert open_since.isoformat() in result["rejected"][0]["reason"]


def test_org_units_keep_their_materialised_path(demo, post_rows, session) -> None:
    rows = [
        {"code": "BPLC-D1-S3-DC1", "name": "New DC", "level": "dc", "parent_code": "BPLC-D1-S3"},
        {
            "code": "BPLC-D1-S3",
            "name": "East Subdivision 3",
            "level": "subdivision",
            "parent_code": "BPLC-D1",
        },
    ]
    result = post_rows("org-units", rows).get_json()
    assert (result["created"], result["rejected"]) == (2, [])
    path = session.scalar(select(OrgUnit.path).where(OrgUnit.code == "BPLC-D1-S3-DC1"))
    assert path == "/MPCZ/BPL/BPLC/BPLC-D1/BPLC-D1-S3/BPLC-D1-S3-DC1/"

    moved = {
        "code": "BPLC-D1-S3",
        "name": "East Subdivision 3",
        "level": "subdivision",
        "parent_code": "BPLC-D2",
    }
    assert post_rows("org-units", [moved]).get_json()["updated"] == 1
    path = session.scalar(select(OrgUnit.path).where(OrgUnit.code == "BPLC-D1-S3-DC1"))
    assert path == "/MPCZ/BPL/BPLC/BPLC-D2/BPLC-D1-S3/BPLC-D1-S3-DC1/"
    assert post_rows("org-units", [moved]).get_json()["unchanged"] == 1


def test_org_unit_rows_with_bad_parents_are_rejected(demo, post_rows) -> None:
    rows = [
        {"code": "X1", "name": "x", "level": "dc", "parent_code": "NOWHERE"},
        {"code": "X2", "name": "x", "level": "circle", "parent_code": "BPLC-D1"},
        {"code": "X3", "name": "x", "level": "division"},
        {"code": "X4", "name": "x", "level": "discom", "parent_code": "MPCZ"},
    ]
    result = post_rows("org-units", rows).get_json()
    assert [(r["index"], r["field"], r["reason"]) for r in result["rejected"]] == [
        (0, "parent_code", "unknown org unit 'NOWHERE'"),
        (1, "parent_code", "a circle cannot sit under a division"),
        (2, "parent_code", "Required for level 'division'."),
        (3, "parent_code", "A discom has no parent."),
    ]


def test_substations_and_meters_upsert_idempotently(demo, post_rows) -> None:
    substation = {
        "code": "SS-900",
        "name": "33/11 kV Misrod",
        "voltage_class": "33/11",
        "org_unit_code": "BPLC-D1",
    }
    assert post_rows("substations", [substation]).get_json()["created"] == 1
    assert post_rows("substations", [substation]).get_json()["unchanged"] == 1
    meter = meter_row("S99000002", multiplying_factor="1.00001")
    assert post_rows("meters", [meter]).get_json()["created"] == 1
    assert post_rows("meters", [meter]).get_json()["unchanged"] == 1
    bad = post_rows("meters", [meter_row("S99000003", display_digits=3, meter_class="analog")]).get_json()
    assert sorted(r["field"] for r in bad["rejected"]) == ["display_digits", "meter_class"]
