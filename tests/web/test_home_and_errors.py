"""Home by role (panels with links into filtered lists) and styled 403/404/500 pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from werkzeug.exceptions import InternalServerError

from service.extensions import db
from service.processes.models import WorkItem
from tests.processes.helpers import inspection_data, start


def _inspections(org: Any, count: int, code: str = "BPLC-D1-S1-DC1", first: int = 1) -> list[int]:
    return [
        start("field_inspection", inspection_data(n), org(code), key=f"INSP-{n:04d}")
        for n in range(first, first + count)
    ]


def test_field_officer_home_lists_my_tasks_with_overdue_and_links(processes_app, org, login) -> None:
    _inspections(org, 3)
    first = db.session.scalar(select(WorkItem.id).order_by(WorkItem.id))
    db.session.execute(
        update(WorkItem).where(WorkItem.id == first).values(due_at=datetime.now(UTC) - timedelta(hours=2))
    )
    db.session.commit()
    html = login("je_east11").get("/").get_data(as_text=True)
    assert 'id="panel-tasks"' in html and 'id="panel-team"' not in html  # a DC has no team below it
    assert (
        'href="/work?due=overdue" id="home-overdue"><span class="label">Overdue</span><span class="value">1<'
        in html
    )
    assert 'id="home-open"><span class="label">Open for me and my group</span><span class="value">3<' in html
    assert html.count('href="/work/') == 3 and "INSP-0001" in html
    assert 'id="panel-rules"' not in html and 'id="panel-incidents"' not in html


def test_supervisor_home_shows_team_load_and_approvals_waiting(processes_app, org, login) -> None:
    from service.auth.models import User
    from service.auth.principal import for_user
    from service.processes import queue

    _inspections(org, 2)
    _inspections(org, 1, "BPLC-D1-S1-DC2", first=10)
    je = for_user(db.session.scalar(select(User).where(User.username == "je_east11")))
    visit = db.session.scalar(select(WorkItem.id).order_by(WorkItem.id))
    queue.complete(db.session(), je, visit, {"findings": "meter ok", "meter_reading_kwh": 5})
    db.session.commit()
    html = login("ae_east1").get("/").get_data(as_text=True)
    assert 'id="panel-team"' in html
    assert 'href="/work?scope=all&amp;org_unit=BPLC-D1-S1-DC1">BPLC-D1-S1-DC1</a></td>' in html
    assert (
        'href="/work?scope=all&amp;task=supervisor_review">Review inspection</a> (field_inspection): <strong>1</strong>'
        in html
    )


def test_analyst_home_shows_a_refused_rule_file_and_control_centre_sees_incidents(
    app, discom, login, refused_rule_file
) -> None:
    html = login("analyst").get("/").get_data(as_text=True)
    assert "<strong>smart-interval.yaml</strong> line 16 was refused since " in html
    assert " IST</time>: rules[1].type: unknown rule type &#39;spikes&#39;" in html
    control = login("control").get("/").get_data(as_text=True)
    assert 'id="panel-incidents"' in control and 'id="home-incidents">0<' in control
    viewer = login("viewer").get("/").get_data(as_text=True)
    assert "card home-panel" not in viewer and "<details open><summary>Meters by class" in viewer


def test_styled_404_and_403_pages_and_json_under_the_api(app, discom, login) -> None:
    client = login("ccc")
    missing = client.get("/no/such/page")
    html = missing.get_data(as_text=True)
    assert (
        missing.status_code == 404 and '<h1 id="error-h">Page not found</h1>' in html and "cmdms.css" in html
    )
    forbidden = client.get("/processes")
    assert forbidden.status_code == 403 and "Your role does not include this page" in forbidden.get_data(
        as_text=True
    )
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.is_json and api.json["error"] == "not_found"


def test_500_page_stands_alone_without_the_database(app) -> None:
    from service.web.views import error_page

    with app.test_request_context("/work"):
        html, code = error_page(InternalServerError())
    assert code == 500 and "Something went wrong" in html and "current_user" not in html


def test_rules_page_shows_the_refused_file_with_line_and_reason_and_a_day_window(
    app, discom, login, refused_rule_file
) -> None:
    client = login("analyst")
    html = client.get("/vee/rules?days=7").get_data(as_text=True)
    assert '<div class="flash error refused-banner" role="alert" id="refused-smart-interval-yaml">' in html
    assert "<strong>smart-interval.yaml was refused</strong> since " in html
    banner = html[html.index("refused-banner") : html.index("Fix the file")]
    assert "<li>line 16: rules[1].type: unknown rule type &#39;spikes&#39; (known: clock_drift," in banner
    assert '<option value="7" selected>7 days</option>' in html
    assert 'data-rule="SM-INT-SPIKE"' in html  # the version before is still in force
    assert html.count('<svg class="sparkbars"') == html.count("<tr data-rule=")
    fine = login("viewer").get("/vee/rules").get_data(as_text=True)
    assert "refused-banner" in fine  # rule files are the discom's, not an area's
