"""The meter page in headless Chromium: the interval chart with an estimate and its original,
a range edit with one reason, and the same page on a phone. Screenshots go to test-results/."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.browser.helpers import login, shot
from tests.vee.conftest import intervals_batch, profile

pytestmark = pytest.mark.browser
DAY = "2026-10-05"  # tests/vee/conftest.py's test day (IST)


def test_chart_shows_the_estimate_beside_its_original_and_a_range_is_edited_with_one_reason(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, live_server: str, page: Any
) -> None:
    ingest(intervals_batch("VM1", profile({30: 1.5}, skip=(50, 51))))
    run_jobs("vee")
    login(page, live_server, "analyst")
    page.goto(f"{live_server}/meters/VM1?day={DAY}")
    page.wait_for_selector("#meter-chart .main-svg")
    legend = " ".join(page.locator("#meter-chart .legend text.legendtext").all_text_contents())
    assert "Estimated" in legend and "Original (before estimate or edit)" in legend and "Validated" in legend
    spike = page.locator("#replaced tr[data-quality=estimated]").filter(has_text="07:30 IST")
    assert spike.locator("td.original").inner_text() == "1.5"
    assert (
        page.locator("#replaced tr[data-quality=estimated] td.original").all_inner_texts().count("missing")
        == 2
    )
    shot(page, "meter", "chart-with-estimates", full_page=True)

    page.fill("#range-edit input[name=from]", f"{DAY}T10:00")
    page.fill("#range-edit input[name=to]", f"{DAY}T11:00")
    page.check("#mode-value")
    page.fill("#range-value", "0.3")
    page.fill("#range-reason", "CT shorted during the visit; consumer's load known")
    page.click("#apply-range-edit")
    page.wait_for_selector("text=4 interval(s) set to the value given and re-validated.")
    edited = session.execute(
        text(
            "SELECT v.original_value, v.reason, r.value, r.quality FROM vee_edits v JOIN interval_readings r"
            " ON r.meter_id = v.meter_id AND r.channel = v.channel AND r.interval_end = v.ts ORDER BY v.ts"
        )
    ).all()
    assert len(edited) == 4
    assert {(r.value, r.quality, r.reason) for r in edited} == {
        (0.3, "edited", "CT shorted during the visit; consumer's load known")
    }
    assert all(r.original_value is not None for r in edited)
    assert page.locator("#replaced tr[data-quality=edited]").count() == 4
    shot(page, "meter", "after-range-edit", full_page=True)


def test_meter_page_fits_a_phone(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, live_server: str, browser: Any
) -> None:
    ingest(intervals_batch("VM1", profile({30: 1.5})))
    run_jobs("vee")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    phone.set_default_timeout(15_000)
    login(phone, live_server, "analyst")
    phone.goto(f"{live_server}/meters/VM1?day={DAY}")
    phone.wait_for_selector("#meter-chart .main-svg")
    assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    shot(phone, "meter", "phone", full_page=True)
    context.close()
