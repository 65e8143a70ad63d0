"""A DO list on a phone in headless Chromium: the division officer opens the verification task,
drops two consumers with a reason (watching the running totals) and approves; the control-centre
authority sends the OTP, mistypes it once and confirms. Screenshots under test-results/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from service.disconnections.models import ListOrder, ListPart
from tests.browser.helpers import shot
from tests.disconnections.conftest import PASSWORD, World

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
FOLDER = "disconnections"


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1


def _otp(standin: Any) -> str:
    match = re.match(r"^(\d{6}) is your CMDMS OTP", standin.messages[-1]["Body"])
    assert match, standin.messages[-1]["Body"]
    return match.group(1)


def test_an_officer_verifies_and_approves_and_the_authority_confirms_with_the_otp_on_a_phone(
    session: Any, client: Any, make_api_key: Any, world: World, clock: Any, add_hes: Any,
    sms_only: Any, twilio: Any, run_jobs: Any, live_server: str, browser: Any,
) -> None:  # fmt: skip
    add_hes("HES-A", "http://127.0.0.1:9", "json")
    rows = [{"ivrs_number": n, "amount_due_inr": "1250.50"} for n in world.ivrs["DIV1"]]
    posted = client.post("/api/v1/disconnections/orders", json={"list_ref": "DO-PHONE", "rows": rows},
                         headers=make_api_key("disconnections:write"))  # fmt: skip
    assert posted.status_code == 200, posted.get_json()
    part_id = posted.get_json()["parts"][0]["part_id"]

    officer = browser.new_context(**PHONE).new_page()
    officer.set_default_timeout(15_000)
    _login(officer, live_server, "officer1")
    officer.goto(f"{live_server}/work?task=verify_list")
    officer.locator("#work-items tbody tr[data-item-id] a").first.click()
    officer.click("#open-do-list")
    officer.wait_for_url(f"{live_server}/disconnections/parts/{part_id}")
    _fits(officer)
    assert "25" in officer.inner_text(".list-total")
    assert officer.inner_text(".to-disconnect-arrears") == "31,262.50"
    shot(officer, FOLDER, "1-officer-list", full_page=True)

    boxes = officer.locator("#do-orders tbody input[name=order]")
    assert boxes.count() == 25
    boxes.nth(0).check()
    boxes.nth(1).check()
    expect(officer.locator("#selected-count")).to_have_text("2")
    expect(officer.locator("#selected-arrears")).to_have_text("2,501.00")
    officer.check("#select-page")
    expect(officer.locator("#selected-count")).to_have_text("25")
    officer.click("#select-none")
    expect(officer.locator("#selected-count")).to_have_text("0")
    boxes.nth(0).check()
    boxes.nth(1).check()
    officer.fill("#drop-reason", "paid today at the counter")
    shot(officer, FOLDER, "2-officer-two-selected")
    officer.click("#drop-selected")
    assert "2 consumer(s) dropped from the list." in officer.inner_text("main")
    assert officer.inner_text(".dropped-count") == "2"
    assert officer.inner_text(".to-disconnect-count") == "23"
    assert officer.locator("#do-orders tbody input[name=order]").count() == 23
    assert officer.locator("text=dropped by officer1: paid today at the counter").count() == 2
    officer.fill("#approve-remarks", "checked with the DC")
    officer.click("#approve")
    assert "List approved" in officer.inner_text("main")
    assert officer.locator("#approve-form").count() == 0
    shot(officer, FOLDER, "3-officer-approved", full_page=True)
    session.expire_all()
    assert session.get(ListPart, part_id).state == "approved"

    authority = browser.new_context(**PHONE).new_page()
    authority.set_default_timeout(15_000)
    _login(authority, live_server, "authority")
    authority.goto(f"{live_server}/work?task=confirm_otp")
    authority.locator("#work-items tbody tr[data-item-id] a").first.click()
    authority.click("#open-otp")
    authority.wait_for_url(f"{live_server}/disconnections/parts/{part_id}/confirm")
    _fits(authority)
    assert authority.inner_text(".to-disconnect-count") == "23"
    authority.click("#send-otp")
    assert "An OTP was sent to your mobile." in authority.inner_text("main")
    assert re.search(r"OTP sent at .+ IST; valid until .+ IST\.", authority.inner_text("#otp-status"))
    run_jobs("urgent")
    code = _otp(twilio)
    authority.fill("#otp-code", "000000" if code != "000000" else "111111")
    authority.click("#confirm")
    assert "The OTP does not match; 2 attempt(s) left." in authority.inner_text("main")
    shot(authority, FOLDER, "4-authority-wrong-code")
    authority.fill("#otp-code", code)
    authority.click("#confirm")
    assert "Confirmed: the commands go to the HES." in authority.inner_text("main")
    assert authority.inner_text("#part-state") in ("confirmed", "commanding")
    shot(authority, FOLDER, "5-authority-confirmed", full_page=True)
    session.expire_all()
    assert session.get(ListPart, part_id).confirmed_by == "authority"
    left = session.scalar(
        select(func.count())
        .select_from(ListOrder)
        .where(ListOrder.part_id == part_id, ListOrder.state == "dropped")
    )
    assert left == 2
    officer.context.close()
    authority.context.close()
