"""Bulk upsert of consumers: accepted, rejected, idempotent, audited."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from service.audit.models import AuditEntry
from service.masterdata.models import Consumer, ConsumerSupplyLink
from tests.masterdata.conftest import consumer_row


def _audit(session: Any, entity: str = "consumer") -> list[AuditEntry]:
    return list(
        session.scalars(select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id))
    )


def test_new_consumers_are_created_with_their_supply_link_and_audited(demo, post_rows, session) -> None:
    response = post_rows("consumers", [consumer_row("N9000000001"), consumer_row("N9000000002", phase=3)])
    assert response.status_code == 200
    assert response.get_json() == {
        "entity": "consumers",
        "received": 2,
        "accepted": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": [],
    }
    consumer = session.scalar(select(Consumer).where(Consumer.ivrs_number == "N9000000002"))
    assert consumer.phase == 3 and consumer.sanctioned_load == Decimal("2.000")
    assert consumer.language == "hi" and consumer.supply_status == "connected"  # defaults
    link = session.scalar(select(ConsumerSupplyLink).where(ConsumerSupplyLink.consumer_id == consumer.id))
    assert link.valid_to is None and link.dtr_id is not None and link.feeder_id is None
    entries = _audit(session)
    assert [(e.action, e.entity_key, e.actor_kind, e.actor) for e in entries] == [
        ("create", "N9000000001", "system", "billing"),
        ("create", "N9000000002", "system", "billing"),
    ]
    assert entries[1].before is None
    assert entries[1].after["phase"] == 3 and entries[1].after["dtr_code"] == "DTR-0001"


def test_repeating_the_same_rows_changes_nothing_and_writes_no_audit(demo, post_rows, session) -> None:
    rows = [consumer_row(f"N90000000{i:02d}") for i in range(20)]
    assert post_rows("consumers", rows).get_json()["created"] == 20
    audit_before = session.scalar(select(func.count(AuditEntry.id)))
    links_before = session.scalar(select(func.count(ConsumerSupplyLink.id)))

    again = post_rows("consumers", rows).get_json()

    assert (again["created"], again["updated"], again["unchanged"], again["accepted"]) == (0, 0, 20, 20)
    assert session.scalar(select(func.count(AuditEntry.id))) == audit_before
    assert session.scalar(select(func.count(ConsumerSupplyLink.id))) == links_before


def test_demo_consumer_resent_as_billing_has_it_is_unchanged(demo, post_rows, client, billing) -> None:
    listed = client.get("/api/v1/masterdata/consumers?page_size=5", headers=billing).get_json()["items"]
    rows = [{k: v for k, v in item.items() if k not in ("updated_at", "linked_since")} for item in listed]
    result = post_rows("consumers", rows).get_json()
    assert result["unchanged"] == 5 and result["rejected"] == []


def test_changed_attributes_update_the_row_and_audit_before_and_after(demo, post_rows, session) -> None:
    post_rows("consumers", [consumer_row("N9000000001")])
    changed = consumer_row("N9000000001", sanctioned_load="3.5", supply_status="disconnected")

    result = post_rows("consumers", [changed]).get_json()

    assert (result["updated"], result["unchanged"]) == (1, 0)
    consumer = session.scalar(select(Consumer).where(Consumer.ivrs_number == "N9000000001"))
    assert consumer.sanctioned_load == Decimal("3.5") and consumer.supply_status == "disconnected"
    update = _audit(session)[-1]
    assert update.action == "update" and update.entity_key == "N9000000001"
    assert update.before == {"sanctioned_load": "2.000", "supply_status": "connected"}
    assert update.after == {"sanctioned_load": "3.500", "supply_status": "disconnected"}


def test_bad_rows_are_rejected_by_index_and_field_while_good_rows_are_kept(demo, post_rows, session) -> None:
    rows = [
        consumer_row("N9000000001"),
        consumer_row("N9000000002", tariff_category="LV9"),
        consumer_row("N9000000003", sanctioned_load="lots"),
        consumer_row("N9000000004", phase="three"),
        "not an object",
        consumer_row("N9000000005", colour="blue"),
        consumer_row("N9000000006"),
    ]
    result = post_rows("consumers", rows).get_json()

    assert (result["received"], result["accepted"], result["created"]) == (7, 2, 2)
    assert result["rejected"] == [
        {
            "index": 1,
            "key": "N9000000002",
            "field": "tariff_category",
            "reason": "Must be one of: LV1, LV2, LV3, LV4, LV5, HV1, HV2, HV3, HV4, HV5, HV6.",
        },
        {"index": 2, "key": "N9000000003", "field": "sanctioned_load", "reason": "Not a valid number."},
        {"index": 3, "key": "N9000000004", "field": "phase", "reason": "Not a valid integer."},
        {"index": 4, "key": None, "field": None, "reason": "Expected a JSON object."},
        {"index": 5, "key": "N9000000005", "field": "colour", "reason": "Unknown field."},
    ]
    stored = session.scalars(select(Consumer.ivrs_number).where(Consumer.ivrs_number.like("N90%"))).all()
    assert sorted(stored) == ["N9000000001", "N9000000006"]


def test_missing_required_field_and_wrong_key_type_are_rejected(demo, post_rows) -> None:
    row = consumer_row("N9000000001")
    del row["name"]
    result = post_rows("consumers", [row, consumer_row(12345)]).get_json()
    assert result["rejected"] == [
        {"index": 0, "key": "N9000000001", "field": "name", "reason": "Missing data for required field."},
        {"index": 1, "key": None, "field": "ivrs_number", "reason": "Not a valid string."},
    ]


def test_hostile_values_are_rejects_not_errors(demo, post_rows, session) -> None:
    rows = [
        consumer_row("N9000000001", sanctioned_load="NaN"),
        consumer_row("N9000000002", sanctioned_load="-1"),
        consumer_row("N9000000003", name="x" * 201),
        consumer_row("N9" + "0" * 40),
        consumer_row("N9000000005", mobile="'; DROP TABLE consumers; --"),
        consumer_row("N9000000006", dtr_code="DTR-0001", feeder_code="FDR-001"),
        consumer_row("N9000000007", effective_from="yesterday"),
    ]
    result = post_rows("consumers", rows).get_json()
    assert result["accepted"] == 0
    assert [(r["index"], r["field"]) for r in result["rejected"]] == [
        (0, "sanctioned_load"),
        (1, "sanctioned_load"),
        (2, "name"),
        (3, "ivrs_number"),
        (4, "mobile"),
        (5, "feeder_code"),
        (6, "effective_from"),
    ]
    assert session.scalar(select(func.count(Consumer.id))) == 300


def test_duplicate_key_in_one_request_rejects_the_later_row(demo, post_rows, session) -> None:
    rows = [consumer_row("N9000000001", name="First"), consumer_row("N9000000001", name="Second")]
    result = post_rows("consumers", rows).get_json()
    assert result["created"] == 1
    assert result["rejected"] == [
        {
            "index": 1,
            "key": "N9000000001",
            "field": "ivrs_number",
            "reason": "duplicate of row 0 in this request",
        }
    ]
    name = session.scalar(select(Consumer.name).where(Consumer.ivrs_number == "N9000000001"))
    assert name == "First"


def test_unknown_parents_are_rejects_naming_the_field(demo, post_rows: Callable[..., Any], session) -> None:
    rows = [
        consumer_row("N9000000001", org_unit_code="NOWHERE"),
        consumer_row("N9000000002", dtr_code="DTR-9999"),
        consumer_row("N9000000003", dtr_code=None, feeder_code="FDR-999"),
        consumer_row("N9000000004"),
    ]
    del rows[2]["dtr_code"]
    result = post_rows("consumers", rows).get_json()
    assert result["rejected"] == [
        {"index": 0, "key": "N9000000001", "field": "org_unit_code", "reason": "unknown org unit 'NOWHERE'"},
        {"index": 1, "key": "N9000000002", "field": "dtr_code", "reason": "unknown DTR 'DTR-9999'"},
        {"index": 2, "key": "N9000000003", "field": "feeder_code", "reason": "unknown feeder 'FDR-999'"},
    ]
    assert result["created"] == 1
