"""Net-metering master data: solar plants and agreements through the exchange API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from service.audit.models import AuditEntry
from service.masterdata import NetMeteringAgreement, SolarPlant, net_metering_terms
from service.masterdata.models import Consumer
from tests.masterdata.conftest import consumer_row


def plant_row(code: str, ivrs: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "code": code,
        "ivrs_number": ivrs,
        "capacity_kwp": "3.000",
        "commissioning_date": "2025-03-10",
        "inverter_make": "Growatt",
    }
    row.update(overrides)
    return row


def agreement_row(number: str, ivrs: str, plant: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "agreement_number": number,
        "ivrs_number": ivrs,
        "plant_code": plant,
        "valid_from": "2025-04-01",
        "settlement_rule": "net_banking",
        "surplus_rate": "3.1500",
    }
    row.update(overrides)
    return row


def _net_consumers(post_rows: Any) -> None:
    rows = [
        consumer_row("N9100000001", is_net_metered=True),
        consumer_row("N9100000002", is_net_metered=True),
        consumer_row("N9100000003"),  # not net metered
    ]
    assert post_rows("consumers", rows).get_json()["created"] == 3


def test_a_plant_and_its_agreement_are_stored_listed_audited_and_a_repeat_changes_nothing(
    demo, post_rows, client, billing, session
) -> None:
    _net_consumers(post_rows)
    plants = post_rows("solar-plants", [plant_row("SP-1", "N9100000001")]).get_json()
    agreements = post_rows("net-metering-agreements", [agreement_row("NMA-1", "N9100000001", "SP-1")])

    assert (plants["created"], plants["rejected"]) == (1, [])
    assert (agreements.get_json()["created"], agreements.get_json()["rejected"]) == (1, [])
    plant = session.scalar(select(SolarPlant).where(SolarPlant.code == "SP-1"))
    assert (plant.capacity_kwp, plant.commissioning_date, plant.inverter_make) == (
        Decimal("3.000"),
        date(2025, 3, 10),
        "Growatt",
    )
    agreement = session.scalar(select(NetMeteringAgreement))
    assert agreement.settlement_start_month == 4 and agreement.valid_to is None  # defaults
    assert agreement.surplus_rate == Decimal("3.1500") and agreement.plant_id == plant.id
    listed = client.get("/api/v1/masterdata/net-metering-agreements?ivrs_number=N9100000001", headers=billing)
    assert listed.get_json()["total"] == 1
    assert listed.get_json()["items"][0]["plant_code"] == "SP-1"
    one = client.get("/api/v1/masterdata/solar-plants/SP-1", headers=billing).get_json()
    assert (one["ivrs_number"], one["capacity_kwp"]) == ("N9100000001", "3.000")
    audit = session.scalars(select(AuditEntry.entity).where(AuditEntry.entity_key.in_(["SP-1", "NMA-1"])))
    assert sorted(audit) == ["net_metering_agreement", "solar_plant"]

    assert post_rows("solar-plants", [plant_row("SP-1", "N9100000001")]).get_json()["unchanged"] == 1
    repeat = post_rows("net-metering-agreements", [agreement_row("NMA-1", "N9100000001", "SP-1")])
    assert repeat.get_json()["unchanged"] == 1
    # closing the agreement and a larger plant are updates
    closed = agreement_row("NMA-1", "N9100000001", "SP-1", valid_to="2026-04-01")
    assert post_rows("net-metering-agreements", [closed]).get_json()["updated"] == 1
    bigger = plant_row("SP-1", "N9100000001", capacity_kwp="4.5")
    assert post_rows("solar-plants", [bigger]).get_json()["updated"] == 1
    session.expire_all()
    assert session.get(SolarPlant, plant.id).capacity_kwp == Decimal("4.500")


def test_bad_plants_are_rejected_with_the_reason_and_good_rows_are_kept(demo, post_rows, session) -> None:
    _net_consumers(post_rows)
    rows = [
        plant_row("SP-OK", "N9100000001"),
        plant_row("SP-ZERO", "N9100000001", capacity_kwp="0"),
        plant_row("SP-GRID", "N9100000003"),
        plant_row("SP-WHO", "N0000000000"),
        plant_row("SP-DATE", "N9100000001", commissioning_date="1900-01-01"),
        plant_row("SP-NOINV", "N9100000001", inverter_make=None),
    ]
    result = post_rows("solar-plants", rows).get_json()

    assert result["created"] == 1
    assert [(r["key"], r["field"], r["reason"]) for r in result["rejected"]] == [
        ("SP-ZERO", "capacity_kwp", "Must be greater than or equal to 0.001 and less than or equal to 99999.999."),
        ("SP-GRID", "ivrs_number", "consumer 'N9100000003' is not net metered (is_net_metered is false)"),
        ("SP-WHO", "ivrs_number", "unknown consumer 'N0000000000'"),
        ("SP-DATE", "commissioning_date", "Not a plausible date: 1900-01-01 (from 1950-01-01 to "
         + result["rejected"][3]["reason"].rsplit(" to ", 1)[1]),
        ("SP-NOINV", "inverter_make", "Field may not be null."),
    ]  # fmt: skip
    assert session.scalars(select(SolarPlant.code)).all() == ["SP-OK"]
    moved = post_rows("solar-plants", [plant_row("SP-OK", "N9100000002")]).get_json()
    assert moved["rejected"][0]["reason"] == "the plant belongs to another consumer"


def test_bad_agreements_are_rejected_and_overlaps_refused_within_and_across_requests(
    demo, post_rows, session
) -> None:
    _net_consumers(post_rows)
    post_rows("solar-plants", [plant_row("SP-1", "N9100000001"), plant_row("SP-2", "N9100000002")])
    first = agreement_row("NMA-1", "N9100000001", "SP-1", valid_to="2026-04-01")
    assert post_rows("net-metering-agreements", [first]).get_json()["created"] == 1

    rows = [
        agreement_row("NMA-2", "N9100000001", "SP-1", valid_from="2026-04-01"),  # follows NMA-1: fine
        agreement_row("NMA-3", "N9100000001", "SP-1", valid_from="2025-10-01"),
        agreement_row("NMA-4", "N9100000001", "SP-1", valid_from="2027-01-01"),  # overlaps NMA-2 (open)
        agreement_row("NMA-5", "N9100000001", "SP-2"),
        agreement_row("NMA-6", "N9100000002", "SP-9"),
        agreement_row("NMA-7", "N9100000002", "SP-2", valid_from="2025-01-01"),
        agreement_row("NMA-8", "N9100000002", "SP-2", settlement_rule="feed_in"),
        agreement_row("NMA-9", "N9100000002", "SP-2", valid_to="2025-04-01"),
        agreement_row("NMA-10", "N9100000002", "SP-2", settlement_start_month=13),
        agreement_row("NMA-11", "N9100000002", "SP-2", surplus_rate="-1"),
    ]
    result = post_rows("net-metering-agreements", rows).get_json()

    assert result["created"] == 1
    assert [(r["key"], r["field"], r["reason"]) for r in result["rejected"]] == [
        ("NMA-3", "valid_from", "overlaps agreement 'NMA-1' (2025-04-01 to 2026-04-01)"),
        ("NMA-4", "valid_from", "overlaps agreement 'NMA-2' (2026-04-01 to open)"),
        ("NMA-5", "plant_code", "the plant 'SP-2' belongs to another consumer"),
        ("NMA-6", "plant_code", "unknown solar plant 'SP-9'"),
        ("NMA-7", "valid_from", "before the plant's commissioning date 2025-03-10"),
        ("NMA-8", "settlement_rule", "Must be one of: net_banking, gross."),
        ("NMA-9", "valid_to", "Must be after valid_from."),
        ("NMA-10", "settlement_start_month", "Must be greater than or equal to 1 and less than or equal to 12."),
        ("NMA-11", "surplus_rate", "Must be greater than or equal to 0 and less than or equal to 9999.9999."),
    ]  # fmt: skip
    numbers = session.scalars(select(NetMeteringAgreement.agreement_number).order_by(NetMeteringAgreement.id))
    assert list(numbers) == ["NMA-1", "NMA-2"]


def test_terms_in_force_name_the_plant_and_the_rule(demo, post_rows, session) -> None:
    _net_consumers(post_rows)
    post_rows("solar-plants", [plant_row("SP-1", "N9100000001", capacity_kwp="5")])
    post_rows(
        "net-metering-agreements",
        [
            agreement_row("NMA-1", "N9100000001", "SP-1", valid_to="2026-01-01"),
            agreement_row("NMA-2", "N9100000001", "SP-1", valid_from="2026-01-01", settlement_rule="gross"),
        ],
    )
    cid = session.scalar(select(Consumer.id).where(Consumer.ivrs_number == "N9100000001"))

    terms = net_metering_terms(session, [cid], date(2025, 12, 1), date(2025, 12, 31))[cid]
    both = net_metering_terms(session, [cid], date(2025, 12, 31), date(2026, 1, 1))[cid]

    assert [(t.agreement_number, t.settlement_rule, t.capacity_kwp) for t in terms] == [
        ("NMA-1", "net_banking", Decimal("5.000"))
    ]
    assert [t.agreement_number for t in both] == ["NMA-1", "NMA-2"]
    assert both[1].in_force(date(2026, 1, 1)) and not both[0].in_force(date(2026, 1, 1))
    assert net_metering_terms(session, [cid], date(2025, 1, 1), date(2025, 3, 31)) == {}
