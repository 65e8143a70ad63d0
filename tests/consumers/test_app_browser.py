"""Headless Chromium on a phone-sized screen: a consumer signs in with the SMS code and opens
the four reports; each shows its bar chart (drawn by the locally served plotly.js) with the
table under it, in English and then in Hindi. Screenshots under test-results/consumer-app/."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import browser, live_server  # noqa: F401  (shared fixtures)
from tests.browser.helpers import shot
from tests.consumers.conftest import AppSignIn
from tests.consumption.conftest import Consumers

REPORTS = {"last_7_days": 7, "last_4_weeks": 4, "last_6_months": 6, "last_2_years": 24}
# Buckets with data: RC1's readings are 10–20 Nov 2026.
WITH_DATA = {"last_7_days": 7, "last_4_weeks": 2, "last_6_months": 1, "last_2_years": 1}


def test_a_consumer_sees_the_four_charts_with_tables_on_a_phone(
    loaded: Consumers,
    app_sign_in: AppSignIn,
    live_server: str,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        page.goto(f"{live_server}/app")
        page.wait_for_url(f"{live_server}/app/sign-in")
        page.fill("#ivrs", "RC1")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server}/app/sign-in/code")
        page.fill("#otp", app_sign_in.last_code("+919800000001"))
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server}/app")
        assert page.locator("#now-today strong").inner_text().endswith("kWh")
        shot(page, "consumer-app", "home-en", full_page=True)
        for name, buckets in REPORTS.items():
            page.goto(f"{live_server}/app/reports/{name}")
            page.wait_for_selector("#report-chart .main-svg")
            drawn = page.evaluate(
                "[...document.querySelectorAll('#report-chart .bars .point path')]"
                ".filter(p => p.getBBox().height > 0).length"
            )
            assert drawn == WITH_DATA[name]  # no bar where there is no data
            assert page.locator("#report-table tbody tr").count() == buckets
            width = page.evaluate(
                "document.querySelector('#report-chart .main-svg').getBoundingClientRect().width"
            )
            assert 300 <= width <= 375  # fits the phone, no sideways scrolling
            shot(page, "consumer-app", f"{name}-en", full_page=True)
        page.click("#lang-hi")
        page.wait_for_selector("h1:has-text('पिछले 2 वर्ष')")
        for name in REPORTS:
            page.goto(f"{live_server}/app/reports/{name}")
            page.wait_for_selector("#report-chart .main-svg")
            assert page.locator("#report-table th").first.inner_text() == "अवधि"
            shot(page, "consumer-app", f"{name}-hi", full_page=True)
    finally:
        context.close()
