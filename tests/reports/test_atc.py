"""Collection data from billing (idempotent, per-row rejects, scoped) and AT&C by hand."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from tests.reports.conftest import Grid, sold_on
from tests.reports.test_energy_audit import rows

ROWS = [
    {"ivrs_number": "RC1", "units_billed_kwh": "600.000", "amount_billed_inr": "4200.00", "amount_collected_inr": "4200.00"},
    {"ivrs_number": "RC2", "units_billed_kwh": 1000, "amount_billed_inr": 7000, "amount_collected_inr": "5600.00"},
    {"ivrs_number": "RC8", "units_billed_kwh": "155.5", "amount_billed_inr": "1000.00", "amount_collected_inr": "0",
     "arrears_collected_inr": "350.00"},
]  # fmt: skip


def post(client: Any, headers: dict[str, str], rows_: list[Any], period: str = "2026-10") -> Any:
    return client.post("/api/v1/billing/collections", json={"period": period, "rows": rows_}, headers=headers)


def test_collections_are_idempotent_revised_and_audited(
    session: Any, grid: Grid, client: Any, make_api_key: Callable[..., dict[str, str]]
) -> None:
    headers = make_api_key("billing:write")
    first = post(client, headers, ROWS)
    assert first.status_code == 200, first.get_json()
    assert first.get_json() == {"stored": 3, "revised": 0, "unchanged": 0, "rejected": 0, "rejects": []}
    again = post(client, headers, ROWS).get_json()
    assert (again["stored"], again["revised"], again["unchanged"]) == (0, 0, 3)
    changed = [dict(ROWS[1], amount_collected_inr="7000.00")]
    assert post(client, headers, changed).get_json()["revised"] == 1
    stored = session.execute(
        text(
            "SELECT amount_collected_inr, revision FROM billing_collections b JOIN consumers c ON c.id = b.consumer_id"
            " WHERE c.ivrs_number = 'RC2'"
        )
    ).one()
    assert (stored.amount_collected_inr, stored.revision) == (Decimal("7000.00"), 2)
    audit = session.execute(
        text("SELECT entity_key, before FROM audit_log WHERE action = 'billing.collection' ORDER BY id")
    ).all()
    assert [a.entity_key for a in audit] == ["RC1/2026-10", "RC2/2026-10", "RC8/2026-10", "RC2/2026-10"]
    assert audit[3].before["amount_collected_inr"] == "5600.00"


def test_bad_collection_rows_are_rejected_by_row_and_field_and_good_rows_kept(
    session: Any, grid: Grid, client: Any, make_api_key: Callable[..., dict[str, str]]
) -> None:
    shr = session.execute(text("SELECT id FROM org_units WHERE code = 'SHR'")).scalar_one()
    headers = make_api_key("billing:write", org_unit_id=shr)
    good = {
        "ivrs_number": "RC6",
        "units_billed_kwh": "10",
        "amount_billed_inr": "70",
        "amount_collected_inr": "70",
    }
    body = post(
        client,
        headers,
        [
            good,
            dict(good, amount_billed_inr="-1"),
            dict(good, ivrs_number="RC1"),  # another circle's consumer
            dict(good, units_billed_kwh="1.0005"),
            dict(good),
            "not a row",
            dict(good, ivrs_number="NOPE", amount_collected_inr="NaN"),
        ],
    ).get_json()
    assert body["stored"] == 1
    assert body["rejects"] == [
        {"row": 1, "field": "amount_billed_inr", "error": "invalid_field",
         "message": "'amount_billed_inr' must be a number >= 0 with at most 2 decimals"},
        {"row": 3, "field": "units_billed_kwh", "error": "invalid_field",
         "message": "'units_billed_kwh' must be a number >= 0 with at most 3 decimals"},
        {"row": 4, "field": "ivrs_number", "error": "duplicate_row", "message": "consumer 'RC6' already in row 0"},
        {"row": 5, "field": "", "error": "invalid_row", "message": "each row must be an object"},
        {"row": 6, "field": "amount_collected_inr", "error": "invalid_field",
         "message": "'amount_collected_inr' must be a number >= 0 with at most 2 decimals"},
        {"row": 2, "field": "ivrs_number", "error": "unknown_consumer", "message": "no consumer 'RC1'"},
    ]  # fmt: skip
    assert session.execute(text("SELECT count(*) FROM billing_collections")).scalar_one() == 1
    bad = post(client, headers, [good], period="2026-13")
    assert (bad.status_code, bad.get_json()["field"]) == (422, "period")
    assert (
        client.post("/api/v1/billing/collections", json={"period": "2026-10", "rows": [good]}).status_code
        == 401
    )


def test_atc_by_circle_against_a_hand_computed_case(
    session: Any, loaded: Grid, client: Any, make_api_key: Callable[..., dict[str, str]]
) -> None:
    assert post(client, make_api_key("billing:write"), ROWS).status_code == 200
    input_kwh = sold_on(loaded, {"RT1": (0, 31), "RT2": (0, 15)}) / 0.92
    units = 600 + 1000 + 155.5
    billing_eff = units / input_kwh
    collection_eff = (4200 + 5600 + 0) / (4200 + 7000 + 1000)  # arrears are not collection of this bill
    circles = rows(session, "atc_loss", level="circle")
    bplc = circles["BPLC"]
    assert bplc["input_kwh"] == pytest.approx(input_kwh, rel=1e-6)
    assert float(bplc["units_billed_kwh"]) == units
    assert bplc["billing_efficiency_pct"] == pytest.approx(100 * billing_eff, rel=1e-6)
    assert bplc["collection_efficiency_pct"] == pytest.approx(100 * collection_eff, rel=1e-9)
    assert bplc["atc_loss_pct"] == pytest.approx(100 * (1 - billing_eff * collection_eff), rel=1e-6)
    # Sehore's feeder lacks input on 3 days: no AT&C is claimed for it.
    assert circles["SHR"]["input_kwh"] is None and circles["SHR"]["atc_loss_pct"] is None
    discom = rows(session, "atc_loss", level="discom")["MPCZ"]
    assert discom["input_kwh"] is None and discom["feeders_missing_input"] == 1
    # The scalar consumer's billed units now count as sold on its DT, spread over the month.
    rt1 = rows(session, "energy_audit_dt")["RT1"]
    assert rt1["sold_scalar_kwh"] == pytest.approx(155.5, rel=1e-9)
    assert rt1["consumer_days_missing"] == 0
