"""Each declared report gets a page, CSV, XLSX, JSON API and kept runs, scoped to the org unit."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from service.reports import registry
from tests.reports.conftest import Grid

PERIOD = {"period": "2026-10"}


def _feeder_rows(session: Any) -> list[Any]:
    return session.execute(
        text(
            "SELECT f.code, sum(n.sold_metered_kwh + n.sold_scalar_kwh + n.direct_ht_kwh) AS sold"
            " FROM agg_network_day n JOIN feeders f ON f.id = n.network_id"
            " WHERE n.network_kind = 'feeder' GROUP BY f.code ORDER BY f.code"
        )
    ).all()


def test_csv_download_matches_the_report_cell_by_cell(
    session: Any, loaded: Grid, login: Callable[[str], Any]
) -> None:
    client = login("analyst")
    response = client.get("/reports/energy_audit_feeder.csv?period=2026-10")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    report = registry.get("energy_audit_feeder")
    assert report is not None
    assert table[0] == [c.heading for c in report.columns]
    assert table[0][:6] == ["Feeder", "Name", "Org unit", "Type", "Voltage (kV)", "Consumers"]
    by_code = {row[0]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
    assert set(by_code) == {"RF1", "RF2"}
    sold = {r.code: r.sold for r in _feeder_rows(session)}
    assert by_code["RF1"]["Sold (kWh)"] == str(round(sold["RF1"], 2))
    assert by_code["RF2"]["Input (kWh)"] == ""  # missing, not zero
    assert by_code["RF2"]["Input"] == "input missing on 3 of 31 days"
    assert by_code["RF1"]["Consumers"] == "6"  # RT1: 3 metered + 1 scalar; RT2: 2 until it moved
    assert float(by_code["RF1"]["Loss (%)"]) == pytest.approx(8.0, abs=0.1)


def test_xlsx_download_matches_the_csv_cell_by_cell(
    session: Any, loaded: Grid, login: Callable[[str], Any]
) -> None:
    client = login("analyst")
    csv_rows = list(
        csv.reader(
            io.StringIO(
                client.get("/reports/energy_audit_feeder.csv?period=2026-10")
                .get_data(as_text=True)
                .lstrip("\ufeff")
            )
        )
    )
    response = client.get("/reports/energy_audit_feeder.xlsx?period=2026-10")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert str(cells[0][0]).startswith("Energy audit, feeder-wise")
    assert [str(v) for v in cells[1]] == csv_rows[0]
    assert len(cells) - 2 == len(csv_rows) - 1 == 2
    for xrow, crow in zip(cells[2:], csv_rows[1:], strict=True):
        for xv, cv in zip(xrow, crow, strict=True):
            if xv is None:
                assert cv == ""
            elif isinstance(xv, int | float):
                assert float(cv) == xv
            else:
                assert str(xv) == cv


def test_circle_user_sees_only_their_circle_in_page_api_and_downloads(
    session: Any, loaded: Grid, login: Callable[[str], Any], make_api_key: Callable[..., dict[str, str]]
) -> None:
    client = login("ee_sehore")  # SHR-D1
    page = client.get("/reports/energy_audit_feeder?period=2026-10").get_data(as_text=True)
    assert "RF2" in page and "RF1" not in page
    assert "RF1" not in client.get("/reports/energy_audit_feeder.csv?period=2026-10").get_data(as_text=True)
    sheet = load_workbook(
        io.BytesIO(client.get("/reports/energy_audit_feeder.xlsx?period=2026-10").data)
    ).active
    assert [r[0] for r in sheet.iter_rows(min_row=3, values_only=True)] == ["RF2"]
    # Asking for another circle's unit is refused as unknown, not answered.
    refused = client.get("/reports/energy_audit_feeder?period=2026-10&org_unit=BPLC-D1").get_data(
        as_text=True
    )
    assert "unknown org unit &#39;BPLC-D1&#39;" in refused and "RF1" not in refused
    shr = session.execute(text("SELECT id FROM org_units WHERE code = 'SHR'")).scalar_one()
    headers = make_api_key("reports:read", system="mis", org_unit_id=shr)
    api = client.get("/api/v1/reports/energy_audit_feeder?period=2026-10", headers=headers)
    assert api.status_code == 200, api.get_json()
    assert [i["network"] for i in api.get_json()["items"]] == ["RF2"]
    assert api.get_json()["total"] == 1
    other = client.get("/api/v1/reports/energy_audit_feeder?period=2026-10&org_unit=BPLC", headers=headers)
    assert other.status_code == 422
    assert other.get_json()["field"] == "org_unit"
    api_csv = client.get("/api/v1/reports/energy_audit_feeder?period=2026-10&format=csv", headers=headers)
    assert "RF1" not in api_csv.get_data(as_text=True) and "RF2" in api_csv.get_data(as_text=True)


def test_api_pages_with_total_and_refuses_bad_parameters(
    session: Any, loaded: Grid, make_api_key: Callable[..., dict[str, str]], client: Any
) -> None:
    headers = make_api_key("reports:read", system="mis")
    first = client.get(
        "/api/v1/reports/energy_audit_feeder?period=2026-10&page_size=1", headers=headers
    ).get_json()
    assert (first["total"], first["pages"], len(first["items"])) == (2, 2, 1)
    assert first["items"][0]["network"] == "RF1"
    second = client.get(
        "/api/v1/reports/energy_audit_feeder?period=2026-10&page_size=1&page=2", headers=headers
    )
    assert second.get_json()["items"][0]["network"] == "RF2"
    bad = client.get("/api/v1/reports/energy_audit_feeder?period=October", headers=headers)
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == {"period": "expected a month YYYY-MM"}
    assert client.get("/api/v1/reports/nope", headers=headers).status_code == 404
    assert client.get("/api/v1/reports/energy_audit_feeder").status_code == 401
    listed = client.get("/api/v1/reports", headers=headers).get_json()
    assert {"energy_audit_feeder", "amr_consumption", "zero_consumption"} <= {r["name"] for r in listed}
    spec = client.get("/api/openapi.json").get_json()
    assert "/api/v1/reports/{name}" in spec["paths"]


def test_page_shows_chart_table_and_pager_with_total(
    session: Any, loaded: Grid, login: Callable[[str], Any]
) -> None:
    client = login("analyst")
    html = client.get("/reports/energy_audit_feeder?period=2026-10").get_data(as_text=True)
    assert 'id="report-chart"' in html and 'id="report-figure"' in html
    assert "/reports/assets/plotly.min.js" in html
    assert 'id="report-total">2<' in html and "Page 1 of 1 · 2 rows" in html
    js = client.get("/reports/assets/plotly.min.js")
    assert js.status_code == 200 and b"plotly.js v" in js.data[:200]


def test_run_now_is_kept_for_download_with_who_ran_it_and_audited(
    session: Any, loaded: Grid, login: Callable[[str], Any], csrf_token: Callable[[str], str], run_jobs: Any
) -> None:
    client = login("ee_sehore")
    page = client.get("/reports/energy_audit_feeder?period=2026-10").get_data(as_text=True)
    refused = client.post("/reports/energy_audit_feeder/runs", data={"period": "2026-10"})
    assert refused.status_code == 400  # no CSRF token
    posted = client.post(
        "/reports/energy_audit_feeder/runs", data={"period": "2026-10", "csrf_token": csrf_token(page)}
    )
    assert posted.status_code == 302
    run_jobs("bulk")
    run = session.execute(text("SELECT id, status, row_count, requested_by FROM report_runs")).one()
    assert (run.status, run.row_count, run.requested_by) == ("done", 1, "user:ee_sehore")
    listing = client.get("/reports/runs").get_data(as_text=True)
    assert 'id="runs-total">1<' in listing and "IST" in listing
    kept = client.get(f"/reports/runs/{run.id}.csv").get_data(as_text=True)
    assert "RF2" in kept and "RF1" not in kept
    actions = session.execute(
        text("SELECT action FROM audit_log WHERE entity = 'report_run' ORDER BY id")
    ).scalars()
    assert list(actions) == ["report.run_requested", "report.run"]
    # Someone in another circle cannot download it.
    other = login("ee_east")
    assert other.get(f"/reports/runs/{run.id}.csv").status_code == 404


def test_run_now_with_redis_unreachable_is_answered_and_kept_queued_for_the_schedule_tick(
    session: Any, loaded: Grid, test_config: Any, csrf_token: Callable[[str], str], run_jobs: Any
) -> None:
    import socket

    from service import create_app
    from service.masterdata.demo import DEMO_PASSWORD
    from service.reports import jobs
    from tests.conftest import IsolatedClient

    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = create_app(test_config.with_(redis_url=f"redis://127.0.0.1:{port}/0"))
    down.test_client_class = IsolatedClient
    client = down.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "ee_sehore", "password": DEMO_PASSWORD, "csrf_token": token})
    page = client.get("/reports/energy_audit_feeder?period=2026-10").get_data(as_text=True)
    posted = client.post(
        "/reports/energy_audit_feeder/runs", data={"period": "2026-10", "csrf_token": csrf_token(page)}
    )
    assert posted.status_code == 302  # the run is committed, the enqueue failed after it
    session.rollback()
    assert session.execute(text("SELECT status FROM report_runs")).scalars().all() == ["queued"]
    assert run_jobs("bulk") == 0
    # Redis is back: the periodic tick queues every run still queued.
    assert jobs.schedules_due("2026-11-02T04:00:00+00:00") == 1
    run_jobs("bulk")
    assert session.execute(text("SELECT status, row_count FROM report_runs")).one() == ("done", 1)


def test_monthly_schedule_runs_once_per_month_even_when_ticked_twice(
    session: Any, loaded: Grid, run_jobs: Any
) -> None:
    from service.auth.principal import Principal
    from service.reports import jobs, runs

    report = registry.get("energy_audit_circle")
    assert report is not None
    runs.create_schedule(
        session(), Principal("user", "analyst", None), report, {"level": "circle"}, "monthly"
    )
    session.commit()
    assert jobs.schedules_due("2026-11-02T04:00:00+00:00") == 1
    assert jobs.schedules_due("2026-11-02T05:00:00+00:00") == 1  # still queued: enqueued again, same job
    run_jobs("bulk")
    done = session.execute(text("SELECT params, trigger, status, row_count FROM report_runs")).all()
    assert [(d.params, d.trigger, d.status, d.row_count) for d in done] == [
        ({"level": "circle", "period": "2026-10"}, "monthly", "done", 2)
    ]
    assert jobs.schedules_due("2026-11-20T05:00:00+00:00") == 0
    assert session.execute(text("SELECT count(*) FROM report_runs")).scalar_one() == 1
    assert (
        date(2026, 10, 1) == session.execute(text("SELECT last_run_for FROM report_schedules")).scalar_one()
    )
