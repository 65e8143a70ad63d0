"""The list component over HTTP: totals, pages, sort, empty states, exports (org-scoped, IST,
formula-safe), and select-all-matching with its confirmation."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select

from service.extensions import db
from service.masterdata.models import Consumer, OrgUnit
from service.processes.models import WorkItem
from service.web.numbers import indian
from tests.processes.helpers import inspection_data, start


def test_indian_grouping_of_numbers() -> None:
    assert [indian(n) for n in (0, 999, 1000, 123456, 1234567, 123456789)] == [
        "0", "999", "1,000", "1,23,456", "12,34,567", "12,34,56,789",
    ]  # fmt: skip
    assert indian(-1234567.5) == "-12,34,567.50" and indian(1234.5, 1) == "1,234.5" and indian(None) == ""


def _visits(org: Any, codes: dict[str, int], first: int = 1) -> None:
    n = first - 1
    for code, count in codes.items():
        for _ in range(count):
            n += 1
            start("field_inspection", inspection_data(n), org(code), key=f"INSP-{n:04d}")


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_queue_pages_with_its_total_and_clamps_a_page_past_the_end(processes_app, org, login) -> None:
    _visits(org, {"BPLC-D1-S1-DC1": 57})
    client = login("je_east11")
    html = client.get("/work?per_page=25").get_data(as_text=True)
    assert '<strong>1–25</strong> of <strong class="list-total">57</strong> tasks' in html
    assert html.count("data-item-id=") == 25
    html = client.get("/work?per_page=25&page=99").get_data(as_text=True)
    assert "<strong>51–57</strong> of" in html and html.count("data-item-id=") == 7
    html = client.get("/work?per_page=7").get_data(as_text=True)  # not an offered size: 50
    assert "<strong>1–50</strong>" in html
    newest = client.get("/work?sort=key&dir=desc").get_data(as_text=True)
    assert newest.index("INSP-0057") < newest.index("INSP-0056")


def test_queue_export_is_the_whole_filtered_list_of_my_area_only(processes_app, org, login) -> None:
    _visits(org, {"BPLC-D1-S1-DC1": 60, "SHR-D1-S1-DC1": 5})
    start("field_inspection", inspection_data(99), org("BPLC-D1-S1-DC1"), key="=HYPERLINK(1)")
    rows = _csv(login("je_east11").get("/work?export=csv&per_page=25"))
    assert len(rows) == 61  # every page, none of Sehore's
    keys = {r["Business key"] for r in rows}
    assert "'=HYPERLINK(1)" in keys and "=HYPERLINK(1)" not in keys  # a spreadsheet will not run it
    assert all(r["Org unit"] == "BPLC-D1-S1-DC1" for r in rows)
    assert all(r["Created (IST)"].endswith("+05:30") for r in rows)
    response = login("je_east11").get("/work?export=xlsx&q=INSP-000")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment;" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:4] == ("Task id", "Task", "Process", "Business key")
    assert sorted(r[3] for r in table[1:]) == [f"INSP-{n:04d}" for n in range(1, 10)]


def test_empty_queue_says_which_filters_exclude_everything(processes_app, org, login) -> None:
    _visits(org, {"BPLC-D1-S1-DC1": 2})
    client = login("je_east11")
    html = client.get("/work?due=overdue&q=nothing").get_data(as_text=True)
    assert "No tasks match" in html and "Due: overdue" in html and "Text: nothing" in html
    assert 'href="/work">Clear the filters' in html
    assert "Nothing waits for you" in login("ee_sehore").get("/work").get_data(as_text=True)


def _reviews(org: Any, count: int) -> None:
    from service.auth.models import User
    from service.auth.principal import for_user
    from service.processes import queue

    _visits(org, {"BPLC-D1-S1-DC1": count})
    je = for_user(db.session.scalar(select(User).where(User.username == "je_east11")))
    for item_id in db.session.scalars(select(WorkItem.id).where(WorkItem.bpmn_id == "field_visit")).all():
        queue.complete(db.session(), je, item_id, {"findings": "meter ok", "meter_reading_kwh": 1})
    db.session.commit()


def _open(bpmn_id: str) -> int:
    db.session.expire_all()
    return int(
        db.session.scalar(select(func.count()).where(WorkItem.bpmn_id == bpmn_id, WorkItem.status == "open"))
    )


def test_select_all_matching_asks_with_the_count_and_rechecks_it(
    processes_app, org, login, csrf_token
) -> None:
    _reviews(org, 6)
    client = login("ae_east1")
    token = csrf_token(client.get("/work").get_data(as_text=True))
    query = "task=supervisor_review"
    form = {"csrf_token": token, "action": "approve", "query": query}
    asked = client.post("/work/bulk?all_matching=1", data=form)
    assert asked.status_code == 200 and "<strong>6</strong> open “Review inspection”" in asked.get_data(
        as_text=True
    )
    assert _open("supervisor_review") == 6  # asking changed nothing
    stale = client.post(
        "/work/bulk", data={**form, "all_matching": "1", "confirm": "1", "expected": "5"}
    )  # the person saw 5: the list is not the one confirmed
    assert "The list changed while you confirmed: 6 tasks match now." in stale.get_data(as_text=True)
    assert _open("supervisor_review") == 6
    done = client.post("/work/bulk", data={**form, "all_matching": "1", "confirm": "1", "expected": "6"})
    assert done.status_code == 302 and done.headers["Location"] == "/work?task=supervisor_review"
    assert _open("supervisor_review") == 0
    assert "6 task(s) approved." in client.get(done.headers["Location"]).get_data(as_text=True)


def test_select_all_matching_refuses_mixed_kinds_and_a_missing_csrf_token(
    processes_app, org, login, csrf_token
) -> None:
    _reviews(org, 2)
    _visits(org, {"BPLC-D1-S1-DC2": 1}, first=100)
    client = login("ae_east1")
    token = csrf_token(client.get("/work").get_data(as_text=True))
    mixed = client.post(
        "/work/bulk?all_matching=1", data={"csrf_token": token, "action": "approve", "query": "scope=all"}
    )
    assert mixed.status_code == 302
    assert "Filter the list to one kind of task" in client.get("/work").get_data(as_text=True)
    no_token = client.post(
        "/work/bulk?all_matching=1",
        data={"action": "approve", "query": "task=supervisor_review", "confirm": "1", "expected": "2"},
    )
    assert no_token.status_code == 400
    assert _open("supervisor_review") == 2


def test_consumers_page_filters_exports_and_stays_in_my_area(app, discom, login) -> None:
    client = login("ee_sehore")
    sehore = db.session.scalar(select(OrgUnit.path).where(OrgUnit.code == "SHR-D1"))
    mine = db.session.scalar(
        select(func.count(Consumer.id)).join(OrgUnit).where(OrgUnit.path.startswith(sehore))
    )
    assert 0 < mine < 300
    html = client.get("/consumers").get_data(as_text=True)
    assert f'<strong class="list-total">{mine}</strong> consumers' in html
    rows = _csv(client.get("/consumers?export=csv"))
    assert len(rows) == mine and all(r["Org unit"].startswith("SHR-D1") for r in rows)
    tariff = rows[0]["Tariff"]
    filtered = _csv(client.get(f"/consumers?export=csv&tariff_category={tariff}"))
    assert 0 < len(filtered) <= mine and {r["Tariff"] for r in filtered} == {tariff}
    empty = client.get("/consumers?q=no-such-consumer").get_data(as_text=True)
    assert "No consumers match" in empty and "Search: no-such-consumer" in empty
    by_name = client.get("/consumers?sort=name").get_data(as_text=True)
    assert 'aria-sort="ascending"><a href="/consumers?sort=name&amp;dir=desc"' in by_name


def test_meters_and_instances_lists_page_and_export(processes_app, org, login) -> None:
    _visits(org, {"BPLC-D1-S1-DC1": 3})
    admin = login("admin")
    html = admin.get("/meters?per_page=25").get_data(as_text=True)
    assert "<strong>1–25</strong> of" in html
    rows = _csv(admin.get("/processes?export=csv"))
    assert [r["Business key"] for r in rows] == ["INSP-0003", "INSP-0002", "INSP-0001"]
    assert all(r["Started (IST)"].endswith("+05:30") for r in rows)
