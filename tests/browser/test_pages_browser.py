"""Styled error pages and home by role in headless Chromium (desktop and phone); screenshots."""

from __future__ import annotations

import pytest

from tests.browser.helpers import login, shot
from tests.processes.helpers import inspection_data, start

pytestmark = pytest.mark.browser


def test_a_styled_404_with_a_way_home(processes_app, discom, live_server, page) -> None:
    login(page, live_server, "ccc")
    response = page.goto(f"{live_server}/meters/NO-SUCH-METER/anything")
    assert response.status == 404
    assert page.inner_text("h1") == "Page not found"
    assert page.evaluate("getComputedStyle(document.querySelector('.card')).borderRadius") == "8px"
    shot(page, "pages", "404")
    page.click("text=Go to your home page")
    page.wait_for_url(f"{live_server}/")


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_field_officer_home_lists_their_tasks(processes_app, org, live_server, browser, size) -> None:
    for n in range(1, 4):
        start("field_inspection", inspection_data(n), org("BPLC-D1-S1-DC1"), key=f"INSP-{n:04d}")
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, is_mobile=size[0] < 500)
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, live_server, "je_east11")
    rows = page.locator("#home-upcoming tbody tr")
    assert rows.count() == 3 and "INSP-0001" in rows.first.inner_text()
    assert page.locator("#panel-tasks").bounding_box()["y"] < size[1]  # on the first screen
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    shot(page, "pages", f"home-field-officer-{size[0]}")
    page.click("#home-open")
    page.wait_for_url(f"{live_server}/work")
    assert page.inner_text("#work-items-summary") == "1–3 of 3 tasks"
    context.close()


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_a_refused_rule_files_banner_on_the_rules_page(
    processes_app, discom, refused_rule_file, live_server, browser, size
) -> None:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, is_mobile=size[0] < 500)
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, live_server, "analyst")
    page.goto(f"{live_server}/vee/rules")
    banner = page.locator("#refused-smart-interval-yaml")
    assert banner.is_visible() and banner.bounding_box()["y"] < size[1] / 2
    assert "line 16: rules[1].type: unknown rule type 'spikes'" in banner.inner_text()
    page.select_option("#days", "7")
    page.click("#apply-days")
    page.wait_for_url(f"{live_server}/vee/rules?days=7")
    assert page.locator("#rules svg.sparkbars").count() == page.locator("#rules tbody tr").count() > 0
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    shot(page, "pages", f"rules-refused-{size[0]}")
    context.close()


def test_admin_creates_a_user_and_an_api_key_shown_once(processes_app, discom, live_server, page) -> None:
    login(page, live_server, "admin")
    page.goto(f"{live_server}/admin/users")
    page.locator("details:has(#create-user)").evaluate("d => { d.open = true; }")
    page.fill("#new-username", "je_browser")
    page.select_option("#new-role", "field_officer")
    page.fill("#new-org", "BPLC-D1-S1-DC1")
    page.fill("#new-password", "long-enough-1")
    page.click("#create-user-submit")
    page.wait_for_selector("text=User je_browser created.")
    assert page.locator("#users tr[data-username=je_browser]").count() == 1
    shot(page, "pages", "admin-user-created")
    page.goto(f"{live_server}/admin/api-keys")
    page.locator("details:has(#create-key)").evaluate("d => { d.open = true; }")
    page.fill("#key-system", "billing")
    page.check("input[name=scope][value='masterdata:write']")
    page.click("#create-key-submit")
    raw = page.inner_text("#new-key-value")
    assert raw.startswith("cmdms_")
    shot(page, "pages", "admin-key-shown-once")
    page.goto(f"{live_server}/admin/api-keys")
    assert page.locator("#new-key-value").count() == 0 and raw not in page.content()


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_staff_ui_in_hindi(processes_app, org, live_server, browser, size) -> None:
    start("field_inspection", inspection_data(1), org("BPLC-D1-S1-DC1"), key="INSP-0001")
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, is_mobile=size[0] < 500)
    page = context.new_page()
    page.set_default_timeout(15_000)
    login(page, live_server, "je_east11")
    page.click("#lang-hi")
    page.wait_for_selector("text=मेरा काम")
    assert page.get_attribute("html", "lang") == "hi"
    assert "कार्य सूची" in page.inner_text("nav")
    shot(page, "pages", f"hindi-home-{size[0]}")
    page.click("nav >> text=कार्य सूची")
    assert page.inner_text("h1") == "कार्य सूची"
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    shot(page, "pages", f"hindi-queue-{size[0]}")
    context.close()
