"""Reports in headless Chromium: three reports, period and org unit changed, chart and table
seen, CSV and XLSX downloaded; screenshots kept under test-results/reports/."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from service.masterdata.demo import DEMO_PASSWORD
from tests.reports.conftest import (  # noqa: F401  (this module's fixtures: the crafted network)
    _rules_from_repository,
    discom,
    grid,
    ingest_and_validate,
    loaded,
)

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "reports"


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _chart_drawn(page: Any) -> None:
    page.wait_for_selector("#report-chart .main-svg")
    assert page.locator("#report-chart .main-svg .bars path, #report-chart .main-svg .trace").count() > 0


def _table(page: Any) -> list[str]:
    return [r.inner_text() for r in page.locator("#report-table tbody tr").all()]


def _download(page: Any, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


@pytest.mark.usefixtures("loaded")
def test_analyst_opens_three_reports_changes_period_and_org_unit_and_downloads(
    live_server: str, page: Any
) -> None:
    _login(page, live_server, "analyst")
    page.click("nav >> text=Reports")
    page.click("text=Energy audit, feeder-wise")
    # Default period is last month (of the real clock): no October rows yet.
    page.fill("#p-period", "2026-10")
    page.click("#report-params button[type=submit]")
    _chart_drawn(page)
    rows = _table(page)
    assert len(rows) == 2 and rows[0].startswith("RF1") and "input missing on 3 of 31 days" in rows[1]
    assert page.inner_text("#report-total") == "2"
    _shot(page, "energy-audit-feeder-discom")
    page.select_option("#p-org_unit", "SHR-D1")
    page.click("#report-params button[type=submit]")
    rows = _table(page)
    assert len(rows) == 1 and rows[0].startswith("RF2")
    _shot(page, "energy-audit-feeder-sehore")
    body = _download(page, "#download-csv").decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(body)))
    assert [r[0] for r in table[1:]] == ["RF2"] and table[0][0] == "Feeder"
    sheet = load_workbook(io.BytesIO(_download(page, "#download-xlsx"))).active
    assert [r[0] for r in sheet.iter_rows(min_row=3, values_only=True)] == ["RF2"]

    page.goto(f"{live_server}/reports/energy_audit_circle?period=2026-10&level=circle")
    _chart_drawn(page)
    assert [r.split("\t")[0] for r in _table(page)] == ["BPLC", "SHR"]
    page.select_option("#p-level", "division")
    page.click("#report-params button[type=submit]")
    assert [r.split("\t")[0] for r in _table(page)] == ["BPLC-D1", "SHR-D1"]
    _shot(page, "energy-audit-division")

    page.goto(f"{live_server}/reports/mdas_hourly_consumption")
    page.fill("#p-day", "2026-10-05")
    page.fill("#p-network", "RF1")
    page.click("#report-params button[type=submit]")
    page.wait_for_selector("#report-chart .main-svg")
    assert page.inner_text("#report-total") == "24"
    assert "05 Oct 2026 01:00 IST" in _table(page)[0]
    _shot(page, "mdas-hourly-rf1")
    xlsx = load_workbook(io.BytesIO(_download(page, "#download-xlsx"))).active
    assert xlsx.max_row == 2 + 24
