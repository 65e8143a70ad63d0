"""Issue 20 item 9: NUL bytes and implausible dates in master data are refused per row; the good
rows beside them are stored and every listing and lookup keeps answering."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.masterdata.models import Consumer, ConsumerSupplyLink
from tests.masterdata.conftest import consumer_row, meter_row


def test_nul_bytes_and_implausible_dates_are_refused_per_row_and_listings_keep_answering(
    demo: Any, client: Any, session: Any, make_api_key: Any
) -> None:
    headers = make_api_key("masterdata:write", "masterdata:read", system="billing")
    before = session.scalar(select(func.count(Consumer.id)))
    rows = [
        consumer_row("N9100000001", name="Ramesh\x00Sharma"),
        consumer_row("N9100000002", effective_from="0001-01-01T00:00:00+05:30"),
        consumer_row("N9100000003", effective_from="2999-01-01T00:00:00+05:30"),
        consumer_row("N9100000004", connection_date="0001-01-01"),
        consumer_row("N9100000005"),
    ]
    answer = client.post("/api/v1/masterdata/consumers", json=rows, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["created"], body["received"]) == (1, 5)
    assert [(r["index"], r["key"], r["field"]) for r in body["rejected"]] == [
        (0, "N9100000001", "name"),
        (1, "N9100000002", "effective_from"),
        (2, "N9100000003", "effective_from"),
        (3, "N9100000004", "connection_date"),
    ]
    assert body["rejected"][0]["reason"] == "Holds a NUL character."
    assert body["rejected"][1]["reason"].startswith("Not a plausible date")
    session.expire_all()
    assert session.scalar(select(func.count(Consumer.id))) == before + 1
    assert session.scalar(select(func.min(ConsumerSupplyLink.valid_from))).year >= 1950
    meters = client.post(
        "/api/v1/masterdata/meters",
        json=[meter_row("NUL\x00METER"), meter_row("GOOD-METER-1", po_date="2999-12-31")],
        headers=headers,
    ).get_json()
    assert [(r["index"], r["field"]) for r in meters["rejected"]] == [(0, "serial_number"), (1, "po_date")]
    assert client.get("/api/v1/masterdata/consumers?page_size=1000", headers=headers).status_code == 200
    assert client.get("/api/v1/masterdata/consumers/N9100000005", headers=headers).status_code == 200
    listing = client.get("/api/v1/masterdata/consumers?updated_since=0001-01-01T00:00:00", headers=headers)
    assert listing.status_code == 422
