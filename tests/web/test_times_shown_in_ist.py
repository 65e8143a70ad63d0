"""Every time a person reads is IST with its zone: the `ist` filter, and a scan of every page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from flask import Flask
from sqlalchemy import select, text

from service.web.times import format_ist, iso_ist, ist_day_bounds, ist_filter
from tests.web.visible_text import times_without_zone, visible_text


def test_a_task_made_at_0829_ist_reads_0829_ist_not_0259() -> None:
    made = datetime(2026, 12, 2, 2, 59, tzinfo=UTC)
    assert format_ist(made, "time") == "08:29 IST"
    assert format_ist(made) == "02 Dec 08:29 IST"
    assert format_ist(made, "datetime") == "02 Dec 2026 08:29 IST"
    assert format_ist(made, "seconds") == "02 Dec 2026 08:29:00 IST"
    assert str(ist_filter(made)) == '<time datetime="2026-12-02T08:29:00+05:30">02 Dec 08:29 IST</time>'


def test_naive_values_are_utc_strings_are_parsed_and_empty_is_blank() -> None:
    assert format_ist(datetime(2026, 12, 1, 20, 0), "datetime") == "02 Dec 2026 01:30 IST"
    assert format_ist("2026-12-01T18:30:00+00:00", "datetime") == "02 Dec 2026 00:00 IST"
    other = datetime(2026, 12, 2, 8, 0, tzinfo=timezone(timedelta(hours=1)))
    assert format_ist(other, "time") == "12:30 IST"
    assert format_ist(None) == "" and str(ist_filter(None)) == "" and iso_ist(None) == ""
    assert format_ist(date(2026, 12, 2)) == "02 Dec 2026"  # a day has no clock time, so no zone


def test_an_ist_day_picked_in_a_form_is_1830_utc_to_1830_utc() -> None:
    start, end = ist_day_bounds(date(2026, 12, 2))
    assert start == datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    assert end == datetime(2026, 12, 2, 18, 30, tzinfo=UTC)


def test_the_scanner_catches_a_bare_time_and_an_iso_timestamp_but_not_a_zoned_one() -> None:
    assert times_without_zone("<td>02 Dec 08:29 IST</td><td>3.5 kWh</td>") == []
    assert times_without_zone("<td>02:59</td>") == ["02:59"]
    assert times_without_zone("<td>2026-12-02T02:59:00+00:00</td>")
    assert times_without_zone("<script>var t='02:59'</script><td data-verbatim>10:00</td>") == []
    assert visible_text("<p>a<br>b <b>c</b></p>") == "a b c"


# Pages with arguments, and how to fill them from the seeded data. A new page with arguments must
# be added here: the scan refuses to leave a page out.
def _page_urls(app: Flask) -> list[tuple[str, str]]:
    from service.disconnections.models import ListPart
    from service.extensions import db
    from service.masterdata.models import Meter
    from service.processes.models import ProcessInstance, WorkItem
    from service.reports.registry import REPORTS
    from service.vee.models import VeeFailure

    failure = db.session.scalar(
        select(VeeFailure).where(VeeFailure.data_kind == "interval").order_by(VeeFailure.id)
    )
    assert failure is not None, "the demo should leave VEE failures to show"
    meter = db.session.get(Meter, failure.meter_id)
    last_read = db.session.scalar(
        text("SELECT max(interval_end) FROM interval_readings WHERE meter_id = :m AND channel = 'kwh'"),
        {"m": meter.id},
    )
    day = (last_read + timedelta(hours=5, minutes=30) - timedelta(minutes=1)).date()
    ivrs = db.session.scalar(
        text(
            "SELECT c.ivrs_number FROM installations i JOIN consumers c ON c.id = i.consumer_id"
            " WHERE i.meter_id = :m ORDER BY i.installed_at DESC LIMIT 1"
        ),
        {"m": meter.id},
    )
    item_ids = db.session.scalars(select(WorkItem.id).order_by(WorkItem.id)).all()
    instance_ids = db.session.scalars(select(ProcessInstance.id).order_by(ProcessInstance.id)).all()
    part_ids = db.session.scalars(select(ListPart.id).order_by(ListPart.id)).all()  # the demo's DO lists
    with_args: dict[str, list[str]] = {
        "vee.rule": [f"/vee/rules/{failure.rule_id}"],
        "reports.show": [f"/reports/{name}" for name in sorted(REPORTS)],
        "vee.meter": [
            f"/meters/{meter.serial_number}",
            f"/meters/{meter.serial_number}?day={day.isoformat()}",
        ],
        "processes.task": [f"/work/{i}" for i in item_ids],
        "consumers.profile": [f"/consumers/{ivrs}"],
        "processes.instance": [f"/processes/{i}" for i in instance_ids],
        "disconnections.part": [f"/disconnections/parts/{i}" for i in part_ids],
        "disconnections.confirm_page": [f"/disconnections/parts/{i}/confirm" for i in part_ids],
        "assets.history": [f"/assets/{meter.serial_number}/history"],
        "assets.purchase_order": [],  # the demo has no purchase orders (tests/assets/test_asset_pages.py)
    }
    extra = {
        "vee.readings": [f"/vee/readings?meter={meter.serial_number}&day={day.isoformat()}"],
        "processes.queue": ["/work?status=any&scope=all"],
    }
    urls: list[tuple[str, str]] = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.rule.startswith(("/api", "/static", "/healthz")):
            continue
        if "static" in rule.endpoint or rule.endpoint == "auth.login":
            continue
        if rule.endpoint.startswith("consumer_app."):  # a consumer's pages: tests/consumers/test_app_pages.py
            continue
        if rule.rule.endswith((".csv", ".xlsx", ".js")):  # downloads, not pages
            continue
        if rule.arguments:
            assert rule.endpoint in with_args, f"add {rule.endpoint} ({rule.rule}) to the page scan"
            urls.extend((rule.endpoint, url) for url in with_args[rule.endpoint])
        else:
            urls.append((rule.endpoint, rule.rule))
        urls.extend((rule.endpoint, url) for url in extra.get(rule.endpoint, []))
    return urls


def _scan(client: Any, urls: list[tuple[str, str]]) -> tuple[dict[str, list[str]], set[str], set[str]]:
    """Every page of `urls` this client may open: times without IST, endpoints showing times, pages seen."""
    problems: dict[str, list[str]] = {}
    with_times: set[str] = set()
    seen: set[str] = set()
    for endpoint, url in urls:
        response = client.get(url)
        assert response.status_code in (200, 403, 404), (url, response.status_code)
        if response.status_code != 200:
            continue
        seen.add(endpoint)
        html = response.get_data(as_text=True)
        if " IST</time>" in html:
            with_times.add(endpoint)
        bad = times_without_zone(html)
        if bad:
            problems[url] = bad
    return problems, with_times, seen


def test_every_page_in_every_demo_role_shows_times_only_in_ist(
    app: Flask, demo: Any, run_jobs: Any, login: Any
) -> None:
    from service.extensions import db
    from service.masterdata.demo import DEMO_USERS
    from service.processes.models import WorkItem

    run_jobs()  # VEE on the demo readings, notices through the console channel
    db.session.expire_all()
    assert db.session.scalar(select(WorkItem.id).where(WorkItem.status == "completed")) is not None
    urls = _page_urls(app)
    assert len(urls) >= 12
    problems, with_times, seen = _scan(login("admin"), urls)
    assert problems == {}
    assert {e for e, _ in urls} == seen  # the admin opens every page
    # The scan saw times on the pages that have them (so it looked at real rows, not empty lists).
    assert {
        "processes.queue", "processes.task", "processes.instances", "processes.instance",
        "notifications.index", "vee.readings", "vee.rule", "vee.meter", "consumers.profile",
        "admin_oversight.audit",
    } <= with_times  # fmt: skip
    # Each other demo role: its home (built for the role) and every page it may open.
    for username, role, _, _ in DEMO_USERS:
        if role == "admin":
            continue
        problems, _, seen = _scan(login(username), urls)
        assert problems == {}, username
        assert "web.home" in seen and len(seen) >= 3, (username, seen)
