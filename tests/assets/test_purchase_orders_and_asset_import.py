"""Purchase orders with lines, and URJAS asset imports against them: meters into master data,
assets in store with group, batch, store and PO line, delivered quantities counted and capped,
bad rows named (malformed, duplicate, hostile, over-delivery), good rows kept."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import text

from tests.assets.conftest import Site

PO = {
    "po_number": "PO-2026-17", "vendor": "Genus Power", "po_date": "2026-10-01", "org_unit_code": "DIV1",
    "lines": [
        {"line_no": 1, "make": "Genus", "model": "G1", "meter_class": "scalar", "asset_group": "WC", "quantity": 3,
         "warranty_months": 66},
        {"line_no": 2, "make": "HPL", "meter_class": "smart_1ph", "asset_group": "WC", "quantity": 1},
    ],
}  # fmt: skip
CSV_HEADER = (
    "serial_number,make,model,meter_class,org_unit_code,display_digits,is_dlms,firmware,rating,"
    "warranty_end,po_number,po_line,asset_group,batch,location\n"
)


def _row(serial: str, **over: Any) -> dict[str, Any]:
    row = {"serial_number": serial, "make": "Genus", "model": "G1", "meter_class": "scalar", "org_unit_code": "DIV1",
           "display_digits": 6, "is_dlms": False, "firmware": "1.02", "rating": "5-30 A", "warranty_end": "2031-04-01",
           "po_number": "PO-2026-17", "po_line": 1, "asset_group": "WC", "batch": "B7", "location": "STORE-BPL"}  # fmt: skip
    return {**row, **over}


def _post_po(client: FlaskClient, key: dict[str, str], body: Any) -> Any:
    return client.post("/api/v1/purchase-orders", json=body, headers=key)


def test_a_po_is_stored_once_and_a_different_one_under_its_number_refused(
    client: FlaskClient, session: Any, site: Site, urjas_key: dict[str, str]
) -> None:
    assert _post_po(client, urjas_key, PO).status_code == 201
    again = _post_po(client, urjas_key, PO)
    assert again.status_code == 200 and again.json["duplicate"] is True
    changed = _post_po(client, urjas_key, {**PO, "vendor": "Someone else"})
    assert changed.status_code == 409 and changed.json["error"] == "po_differs"
    repeat = _post_po(client, urjas_key, {**PO, "po_number": "PO-2", "lines": [PO["lines"][0]] * 2})
    assert (repeat.status_code, repeat.json["field"]) == (422, "lines")
    bad_group = _post_po(
        client, urjas_key, {**PO, "po_number": "PO-3", "lines": [{**PO["lines"][0], "asset_group": "XX"}]}
    )
    assert bad_group.status_code == 422 and bad_group.json["field"] == "lines"
    hostile = _post_po(client, urjas_key, {**PO, "po_number": "<img src=x>"})
    assert hostile.json["field"] == "po_number"
    assert session.execute(text("SELECT count(*) FROM purchase_order_lines")).scalar_one() == 2


def test_imported_assets_land_in_store_with_their_attributes_and_count_as_delivered(
    client: FlaskClient, session: Any, site: Site, urjas_key: dict[str, str], make_api_key: Any
) -> None:
    _post_po(client, urjas_key, PO)
    rows = [
        _row("G100"),  # 0 good
        _row("G101", batch="B8"),  # 1 good
        _row("G100"),  # 2 duplicate of row 0
        _row("G102", po_line=9),  # 3 unknown line
        _row("G103", make="HPL"),  # 4 make differs from the line
        _row("=SUM(A1)"),  # 5 hostile serial
        _row("G104", display_digits="six"),  # 6 malformed (master data's check)
        _row("G105"),  # 7 good: the third of three
        _row("G106"),  # 8 over-delivery: line 1 ordered 3
    ]
    answer = client.post("/api/v1/assets/import", json={"rows": rows}, headers=urjas_key)
    assert answer.status_code == 200, answer.json
    assert (answer.json["created"], answer.json["updated"], answer.json["rejected"]) == (3, 0, 6)
    assert [(r["row"], r["field"], r["error"]) for r in answer.json["rejects"]] == [
        (2, "serial_number", "duplicate_in_file"),
        (3, "po_line", "unknown_po_line"),
        (4, "make", "make_differs_from_po"),
        (5, "serial_number", "invalid_field"),
        (6, "display_digits", "invalid_meter"),
        (8, "po_line", "over_delivery"),
    ]
    stored = session.execute(
        text(
            "SELECT m.serial_number, m.make, m.firmware, m.is_dlms, a.status, a.asset_group, a.batch, a.location"
            " FROM meter_assets a JOIN meters m ON m.id = a.meter_id WHERE m.serial_number LIKE 'G1%'"
            " ORDER BY m.serial_number"
        )
    ).all()
    assert stored == [
        ("G100", "Genus", "1.02", False, "in_store", "WC", "B7", "STORE-BPL"),
        ("G101", "Genus", "1.02", False, "in_store", "WC", "B8", "STORE-BPL"),
        ("G105", "Genus", "1.02", False, "in_store", "WC", "B7", "STORE-BPL"),
    ]
    assert (
        session.execute(
            text("SELECT count(*) FROM meters WHERE serial_number IN ('G104', 'G106')")
        ).scalar_one()
        == 0
    )
    po = client.get("/api/v1/purchase-orders/PO-2026-17", headers=make_api_key("assets:read"))
    assert po.json["lines"][0] == {
        "line_no": 1, "make": "Genus", "model": "G1", "meter_class": "scalar", "asset_group": "WC",
        "quantity": 3, "delivered": 3, "assets_received": 3, "outstanding": 0,
    }  # fmt: skip
    # The same file again updates (no new delivery); a new meter now finds the line full.
    again = client.post("/api/v1/assets/import", json={"rows": rows[:2]}, headers=urjas_key)
    assert (again.json["created"], again.json["updated"]) == (0, 2)


def test_a_csv_of_assets_is_read_like_json_rows_and_an_all_bad_file_is_422(
    client: FlaskClient, session: Any, site: Site, urjas_key: dict[str, str]
) -> None:
    _post_po(client, urjas_key, PO)
    good = "G200,Genus,G1,scalar,DIV1,6,yes,1.03,5-30 A,2031-04-01,PO-2026-17,1,WC,B9,STORE-BPL\n"
    bad = "G201,Genus,G1,scalar,DIV1,6,maybe,1.03,5-30 A,2031-04-01,PO-2026-17,1,LTX,B9,STORE-BPL\n"
    headers = {**urjas_key, "Content-Type": "text/csv"}
    answer = client.post("/api/v1/assets/import", data=CSV_HEADER + good + bad, headers=headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["created"] == 1 and answer.json["rejects"][0]["field"] == "asset_group"
    dlms = session.execute(
        text("SELECT is_dlms, display_digits FROM meters WHERE serial_number = 'G200'")
    ).one()
    assert dlms == (True, 6)
    all_bad = client.post("/api/v1/assets/import", data=CSV_HEADER + bad, headers=headers)
    assert all_bad.status_code == 422 and all_bad.json["error"] == "all_rows_rejected"
    assert client.post("/api/v1/assets/import", json={"rows": []}, headers=urjas_key).status_code == 422


def test_a_po_outside_the_keys_org_units_is_not_found(
    client: FlaskClient, session: Any, site: Site, urjas_key: dict[str, str], make_api_key: Any
) -> None:
    _post_po(client, urjas_key, PO)
    other = make_api_key("assets:read", system="urjas", org_unit_id=site.orgs["DIV2"])
    assert client.get("/api/v1/purchase-orders/PO-2026-17", headers=other).status_code == 404
    outside = make_api_key("assets:write", system="urjas", org_unit_id=site.orgs["DIV2"])
    refused = _post_po(client, outside, {**PO, "po_number": "PO-9"})
    assert refused.json["error"] == "unknown_org_unit"
