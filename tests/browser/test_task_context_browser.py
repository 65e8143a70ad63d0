"""A task with its consumer card, and a visit sent back by the supervisor: it returns to the
officer who made it, marked "sent back", with the remarks shown and the findings pre-filled."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.extensions import db
from service.masterdata.models import Consumer
from service.processes.models import WorkItem
from tests.browser.helpers import login, shot
from tests.processes.helpers import start

pytestmark = pytest.mark.browser


def test_send_back_returns_the_visit_to_its_officer_with_remarks_and_findings(
    processes_app, org, live_server, browser
) -> None:
    dc = org("BPLC-D1-S1-DC1")
    consumer = db.session.scalar(select(Consumer).where(Consumer.org_unit_id == dc).order_by(Consumer.id))
    data = {"request_id": "INSP-0001", "ivrs_number": consumer.ivrs_number, "reason": "zero consumption"}
    instance_id = start("field_inspection", data, dc, key="INSP-0001")
    officer = browser.new_context(viewport={"width": 1280, "height": 900})
    je = officer.new_page()
    login(je, live_server, "je_east11")
    visit = db.session.scalar(select(WorkItem.id).where(WorkItem.instance_id == instance_id))
    je.goto(f"{live_server}/work/{visit}")
    card = je.inner_text("#consumer-card")
    assert consumer.name in card and consumer.ivrs_number in card and "Meter" in card
    je.click("#claim")
    je.fill("#f-findings", "Seal broken at the terminal cover")
    je.fill("#f-meter_reading_kwh", "4711")
    je.click("#complete")
    je.wait_for_url(f"{live_server}/work")

    supervisor = browser.new_context(viewport={"width": 1280, "height": 900})
    ae = supervisor.new_page()
    login(ae, live_server, "ae_east1")
    db.session.expire_all()
    review = db.session.scalar(
        select(WorkItem.id).where(WorkItem.instance_id == instance_id, WorkItem.status == "open")
    )
    ae.goto(f"{live_server}/work/{review}")
    ae.select_option("#f-decision", "send_back")
    ae.fill("#f-remarks", "Photo unclear; take the reading again")
    ae.click("#complete")
    ae.wait_for_url(f"{live_server}/work")
    supervisor.close()

    db.session.expire_all()
    again = db.session.scalar(
        select(WorkItem).where(WorkItem.instance_id == instance_id, WorkItem.status == "open")
    )
    assert again.bpmn_id == "field_visit" and again.assignee_id is not None
    je.goto(f"{live_server}/work?scope=mine")
    assert je.inner_text("#work-items-summary") == "1–1 of 1 tasks"
    je.click("#work-items tbody a")
    assert "sent back" in je.inner_text("#sent-back-h") and "ae_east1" in je.inner_text("#sent-back-h")
    assert je.inner_text("#sent-back-remarks") == "Remarks: Photo unclear; take the reading again"
    assert je.input_value("#f-findings") == "Seal broken at the terminal cover"
    assert je.input_value("#f-meter_reading_kwh") == "4711.0"
    assert "sent back" in je.inner_text(".history") and "→ je_east11" in je.inner_text(".history")
    shot(je, "task", "sent-back", full_page=True)
    officer.close()
