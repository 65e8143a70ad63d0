"""The asset pages: search through the list component (filters, total, export), a meter's
history after a replacement, a PO's delivered quantities — each scoped to the person's org unit."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.audit.log import Actor
from service.auth.users import create_user
from service.masterdata.demo import DEMO_PASSWORD
from tests.assets.conftest import Site

REPLACEMENT = {
    "kind": "scalar", "ivrs_number": "A1", "old_meter_serial": "S1", "new_meter_serial": "N1",
    "replaced_at": "2026-11-20T10:00:00+05:30", "final_kwh": "1350", "initial_kwh": "2.5",
}  # fmt: skip
PO = {"po_number": "PO-7", "vendor": "HPL", "po_date": "2026-10-01", "org_unit_code": "DIV1",
      "lines": [{"line_no": 1, "make": "HPL", "meter_class": "scalar", "asset_group": "WC", "quantity": 4}]}  # fmt: skip


def _summary(html: str) -> str:
    found = re.search(r'id="assets-summary"[^>]*>(.*?)</p>', html, re.S)
    assert found is not None
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


@pytest.fixture
def officer(
    site: Site, session: Any, login: Any, client: FlaskClient, billing_key: dict[str, str]
) -> FlaskClient:
    assert client.post("/api/v1/replacements", json=REPLACEMENT, headers=billing_key).status_code == 201
    assert client.post("/api/v1/purchase-orders", json=PO, headers=billing_key).status_code == 201
    for user, unit in (("je_div1", "DIV1"), ("je_div2", "DIV2")):
        create_user(session, user, DEMO_PASSWORD, "field_officer", unit, Actor("cli", "test"))
    session.commit()
    return login("je_div1")


def test_asset_search_pages_filters_and_exports_within_the_org_unit(officer: FlaskClient) -> None:
    page = officer.get("/assets").get_data(as_text=True)
    # DIV1: S1 (removed), N1 (installed), N2, N3, SM1 (in store), NI (issued); S2, S9 are no assets.
    assert _summary(page) == "1–6 of 6 assets" and "S9" not in page
    installed = officer.get("/assets?status=installed").get_data(as_text=True)
    assert _summary(installed) == "1–1 of 1 assets" and ">N1</a>" in installed
    csv = officer.get("/assets?status=in_store&export=csv").get_data(as_text=True).splitlines()
    assert csv[0].startswith("\ufeffSerial,Make,Model,Class,Status") and len(csv) == 4  # BOM for Excel
    hostile = officer.get("/assets?q=%25_%5C").get_data(as_text=True)
    assert _summary(hostile) == "0 assets"  # LIKE wildcards are searched as text


def test_meter_history_shows_installations_final_read_and_the_replacement(officer: FlaskClient) -> None:
    page = officer.get("/assets/S1/history").get_data(as_text=True)
    assert "Installations (1)" in page and "20 Nov 2026 10:00 IST" in page
    assert "S1 → N1" in page and "Replacements (1)" in page
    assert "3 newest of 3" in page  # two monthly reads and the final read at the replacement
    assert "removed" in page and "replacement 1" in page
    assert officer.get("/assets/S9/history").status_code == 404  # another division's meter


def test_po_page_shows_ordered_delivered_outstanding_and_hides_other_units(
    officer: FlaskClient, login: Any
) -> None:
    page = officer.get("/purchase-orders/PO-7").get_data(as_text=True)
    assert 'data-label="Ordered" class="num">4<' in page and 'data-label="Outstanding" class="num">4<' in page
    assert officer.get("/purchase-orders/NOPE").status_code == 404
    other = login("je_div2")
    assert other.get("/purchase-orders/PO-7").status_code == 404
