"""The list component in headless Chromium: a 157-task queue paged and bulk-approved with
select-all-matching, on a desktop and on a phone. Screenshots go to test-results/."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from service.extensions import db
from service.processes.models import WorkItem
from tests.browser.helpers import login, shot

pytestmark = pytest.mark.browser
REVIEWS = 157


def _seed_reviews(org: Any, count: int = REVIEWS) -> None:
    """`count` inspections whose visit is done: `count` supervisor reviews wait in BPLC-D1-S1-DC1."""
    from service.auth.models import User
    from service.auth.principal import for_user
    from service.processes import queue
    from service.processes.batch import start_many
    from tests.processes.helpers import TEST_ACTOR, inspection_data

    dc = org("BPLC-D1-S1-DC1")
    items = [(f"INSP-{n:04d}", dc, inspection_data(n)) for n in range(1, count + 1)]
    outcomes = start_many(db.session(), "field_inspection", items, TEST_ACTOR)
    assert all(o.started for o in outcomes)
    db.session.commit()
    je = for_user(db.session.scalar(select(User).where(User.username == "je_east11")))
    visits = db.session.scalars(select(WorkItem.id).where(WorkItem.bpmn_id == "field_visit")).all()
    for item_id in visits:
        queue.complete(db.session(), je, item_id, {"findings": "meter ok", "meter_reading_kwh": 100})
    db.session.commit()


def _open_reviews() -> int:
    db.session.expire_all()
    return int(
        db.session.scalar(
            select(func.count()).where(WorkItem.bpmn_id == "supervisor_review", WorkItem.status == "open")
        )
    )


def _submit_and_wait(page: Any, button: str) -> None:
    """Completing 157 tasks is one transaction that takes seconds on a loaded machine: wait for
    its answer beyond the default 15 s step timeout (nothing here measures its speed)."""
    with page.expect_navigation(timeout=300_000):
        page.click(button, no_wait_after=True)


def test_desktop_pages_through_157_reviews_and_approves_all_matching(
    processes_app, org, live_server, page
) -> None:
    _seed_reviews(org)
    login(page, live_server, "ae_east1")
    page.goto(f"{live_server}/work?task=supervisor_review")
    summary = page.locator("#work-items-summary")
    assert summary.inner_text() == "1–50 of 157 tasks"
    assert page.locator("#work-items tbody tr[data-item-id]").count() == 50
    shot(page, "lists", "desktop-queue-page-1")
    page.click("#work-items-pager >> text=Next ›")
    assert summary.inner_text() == "51–100 of 157 tasks"
    page.click("#work-items-pager >> text=Last »")
    assert summary.inner_text() == "151–157 of 157 tasks"
    last_keys = page.locator("#work-items tbody tr[data-item-id] td:nth-child(3)").all_inner_texts()
    assert len(last_keys) == 7
    page.click("#work-items thead >> text=Business key")  # sort by key, back on page 1
    assert summary.inner_text() == "1–50 of 157 tasks"
    first = page.locator("#work-items tbody tr[data-item-id] td:nth-child(3)").first.inner_text()
    assert first == "INSP-0001"
    page.click("#all-matching-approve")
    assert page.inner_text("#bulk-count").startswith("157 open “Review inspection” task(s)")
    shot(page, "lists", "desktop-bulk-confirm")
    assert _open_reviews() == REVIEWS  # nothing done before the confirmation
    _submit_and_wait(page, "#confirm-bulk")
    page.wait_for_selector("text=157 task(s) approved.")
    assert _open_reviews() == 0
    done = db.session.scalars(select(WorkItem.result).where(WorkItem.bpmn_id == "supervisor_review")).all()
    assert len(done) == REVIEWS and all(r["decision"] == "approve" for r in done)
    assert summary.inner_text() == "0 tasks"
    assert "No tasks match" in page.inner_text(
        "#work-items"
    ) and "Task: supervisor_review" in page.inner_text("#work-items")
    shot(page, "lists", "desktop-after-bulk")


def test_phone_filters_behind_a_button_one_line_per_task_and_select_all(
    processes_app, org, live_server, browser
) -> None:
    _seed_reviews(org)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    phone.set_default_timeout(15_000)
    login(phone, live_server, "ae_east1")
    phone.goto(f"{live_server}/work")
    assert phone.locator("#work-items-filters").is_hidden()
    phone.click("button[data-toggle-filters]")
    assert phone.locator("#work-items-filters").is_visible()
    phone.select_option("select[name=task]", "supervisor_review")
    phone.click("#apply-filter")
    assert phone.inner_text("#work-items-summary") == "1–50 of 157 tasks"
    assert phone.locator("#work-items-filters").is_hidden()
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    heights = phone.locator("#work-items tbody tr[data-item-id]").evaluate_all(
        "rows => rows.map(r => r.getBoundingClientRect().height)"
    )
    assert max(heights) < 48  # one line per task
    first_row_top = phone.locator("#work-items tbody tr[data-item-id]").first.bounding_box()["y"]
    visible = sum(1 for n in range(len(heights)) if first_row_top + sum(heights[: n + 1]) <= 844)
    shot(phone, "lists", "phone-queue")
    assert visible >= 12, visible
    shot(phone, "lists", "phone-queue")
    phone.check("#select-page")  # this page's 50
    _submit_and_wait(phone, "#bulk-approve")
    phone.wait_for_selector("text=50 task(s) approved.")
    assert _open_reviews() == REVIEWS - 50
    assert phone.inner_text("#work-items-summary") == "1–50 of 107 tasks"
    phone.click("#all-matching-approve")
    assert phone.inner_text("#bulk-count").startswith("107 open")
    shot(phone, "lists", "phone-bulk-confirm")
    _submit_and_wait(phone, "#confirm-bulk")
    phone.wait_for_selector("text=107 task(s) approved.")
    assert _open_reviews() == 0
    context.close()
