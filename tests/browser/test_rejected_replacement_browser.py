"""A scalar -> smart replacement that billing rejects comes back to the field officer's phone as
a work item showing billing's reason; the officer records what was done and the process ends."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from service.audit.log import Actor
from service.auth.users import create_user
from service.masterdata.demo import DEMO_PASSWORD
from tests.assets.conftest import (  # noqa: F401  (shared fixtures)
    add_hes,
    billing,
    clock,
    drain,
    hes_sim,
    live_url,
    post_decision,
    site,
    smart_site,
    submit_to_billing,
)
from tests.browser.helpers import login, shot

pytestmark = pytest.mark.browser
REASON = "Photo shows 1305 kWh, not 1350: read the old meter again"
BODY = {
    "kind": "smart", "ivrs_number": "A1", "old_meter_serial": "S1", "new_meter_serial": "SM2",
    "replaced_at": "2026-11-20T10:00:00+05:30", "final_kwh": "1350", "initial_kwh": "0.4",
}  # fmt: skip


def test_a_rejected_replacement_reaches_the_field_officer_on_a_phone_with_the_reason(
    client: FlaskClient,
    session: Any,
    make_api_key: Any,
    run_jobs: Any,
    browser: Any,
    request: pytest.FixtureRequest,
) -> None:
    request.getfixturevalue("smart_site")
    request.getfixturevalue("billing")
    base, hes, run_outbox = (request.getfixturevalue(n) for n in ("live_url", "hes_sim", "drain"))
    create_user(session, "je_div1", DEMO_PASSWORD, "field_officer", "DIV1", Actor("cli", "test"))
    session.commit()
    key = make_api_key("assets:write", system="field-app")
    replacement_id = submit_to_billing(client, key, run_jobs, run_outbox, hes, BODY)
    decided = post_decision(
        client, {"replacement_id": replacement_id, "decision": "rejected", "reason": REASON}, "r-1"
    )
    assert decided.status_code == 200, decided.json

    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    phone = context.new_page()
    phone.set_default_timeout(15_000)
    login(phone, base, "je_div1")
    phone.goto(f"{base}/work")
    assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    phone.click("#work-items tbody a")
    assert phone.inner_text("#rejection-reason") == REASON
    assert "S1" in phone.inner_text("#replacement-rejection") and "SM2" in phone.inner_text(
        "#replacement-rejection"
    )
    assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    shot(phone, "assets", "rejected-replacement-phone", full_page=True)
    phone.click("#claim")
    phone.select_option("#f-action", "resubmitted")
    phone.fill("#f-remarks", "Old meter read again: 1305; resubmitting from the app")
    phone.click("#complete")
    phone.wait_for_url(f"{base}/work")
    context.close()
    session.expire_all()
    status = session.execute(
        text(
            "SELECT p.status FROM process_instances p JOIN meter_replacements r ON r.instance_id = p.id"
            " WHERE r.id = :i"
        ),
        {"i": replacement_id},
    ).scalar_one()
    assert status == "completed"
