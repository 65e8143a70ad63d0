"""The consumer's own pages at /app: sign in by IVRS number and SMS code, consumption now, the
four reports as a chart (plotly figure) with a table under it, in English and Hindi."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.consumers.conftest import AppSignIn
from tests.consumption.conftest import Consumers
from tests.web.visible_text import times_without_zone

REPORTS = ["last_7_days", "last_4_weeks", "last_6_months", "last_2_years"]


def sign_in_on_the_page(
    app_sign_in: AppSignIn, csrf_token: Callable[[str], str], ivrs: str, mobile: str
) -> FlaskClient:
    client = app_sign_in.client
    page = client.get("/app/sign-in").get_data(as_text=True)
    sent = client.post("/app/sign-in", data={"csrf_token": csrf_token(page), "ivrs": ivrs})
    assert sent.status_code == 302 and sent.headers["Location"] == "/app/sign-in/code"
    page = client.get("/app/sign-in/code").get_data(as_text=True)
    done = client.post(
        "/app/sign-in/code", data={"csrf_token": csrf_token(page), "otp": app_sign_in.last_code(mobile)}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/app"
    return client


def figure_of(page: str) -> dict[str, Any]:
    match = re.search(
        r'<script type="application/json" data-chart="report-chart"[^>]*>(.*?)</script>', page, re.S
    )
    assert match, "no chart on the page"
    figure: dict[str, Any] = json.loads(match.group(1))
    return figure


def table_rows(page: str) -> list[list[str]]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_without_signing_in_every_page_goes_to_sign_in(people: Consumers, client: FlaskClient) -> None:
    for path in ["/app", *(f"/app/reports/{r}" for r in REPORTS), "/app/sign-in/code"]:
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"] == "/app/sign-in", path


@pytest.mark.parametrize("name", REPORTS)
def test_each_report_is_a_bar_chart_with_the_apis_numbers_in_a_table(
    loaded: Consumers, app_sign_in: AppSignIn, csrf_token: Callable[[str], str], name: str
) -> None:
    client = sign_in_on_the_page(app_sign_in, csrf_token, "RC1", "+919800000001")
    page = client.get(f"/app/reports/{name}").get_data(as_text=True)
    api = app_sign_in.headers("RC1", "+919800000001")
    body = client.get(f"/api/v1/consumer/RC1/reports/{name}", headers=api).get_json()
    figure = figure_of(page)
    (bars,) = figure["data"]
    assert bars["type"] == "bar" and bars["x"] == [b["label"] for b in body["buckets"]]
    assert bars["y"] == [None if b["kwh"] is None else float(b["kwh"]) for b in body["buckets"]]
    rows = table_rows(page)
    assert [r[0] for r in rows] == [b["label"] for b in body["buckets"]]
    for row, b in zip(rows, body["buckets"], strict=True):
        if b["kwh"] is None:
            assert row[1:] == ["No data", "–"]
        else:
            assert row[1].replace(",", "") == f"{float(b['kwh']):.2f}"
            assert row[2].replace(",", "") == b["cost_inr"]
    assert '<script src="/reports/assets/plotly.min.js"></script>' in page
    assert times_without_zone(page) == []  # the staff pages' IST scan skips the consumer's pages


def test_the_home_page_shows_today_week_month_year(
    loaded: Consumers, app_sign_in: AppSignIn, csrf_token: Callable[[str], str]
) -> None:
    client = sign_in_on_the_page(app_sign_in, csrf_token, "RC1", "+919800000001")
    page = client.get("/app").get_data(as_text=True)
    api = app_sign_in.headers("RC1", "+919800000001")
    now = client.get("/api/v1/consumer/RC1/consumption", headers=api).get_json()["periods"]
    for key in ("today", "week", "month", "year"):
        tile = page.split(f'id="now-{key}"', 1)[1].split("</div>", 1)[0]
        assert f"{float(now[key]['kwh']):.2f}" in tile.replace(",", "")
        assert f"₹ {now[key]['cost_inr']}" in tile.replace(",", "")
    assert "Consumer RC1" in page and "Consumer RC2" not in page
    assert times_without_zone(page) == []


def test_the_pages_in_hindi_chosen_by_the_consumer_or_from_master_data(
    loaded: Consumers, app_sign_in: AppSignIn, csrf_token: Callable[[str], str], session: Any
) -> None:
    session.execute(text("UPDATE consumers SET language = 'hi' WHERE ivrs_number = 'RC1'"))
    session.commit()
    client = sign_in_on_the_page(app_sign_in, csrf_token, "RC1", "+919800000001")
    home = client.get("/app").get_data(as_text=True)
    assert '<html lang="hi">' in home and "<h1>आपकी बिजली खपत</h1>" in home
    assert "आज" in home and "इस सप्ताह" in home and "पिछले 6 महीने" in home and "साइन आउट" in home
    week = client.get("/app/reports/last_7_days").get_data(as_text=True)
    assert "<h1>पिछले 7 दिन</h1>" in week and "<th>अवधि</th>" in week and "यूनिट (kWh)" in week
    assert [r[0] for r in table_rows(week)][3] == "मंगल 17 नव॰"  # the day the meter was replaced
    assert figure_of(week)["data"][0]["x"][3] == "मंगल 17 नव॰"
    months = client.get("/app/reports/last_6_months").get_data(as_text=True)
    assert table_rows(months)[0][1] == "डेटा नहीं" and table_rows(months)[-1][0] == "नव॰ 2026"
    # The consumer switches to English; an outside address is never a redirect target.
    token = csrf_token(months)
    back = client.post(
        "/app/language", data={"csrf_token": token, "language": "en", "next": "/app/reports/last_6_months"}
    )
    assert back.headers["Location"] == "/app/reports/last_6_months"
    english = client.get("/app/reports/last_6_months").get_data(as_text=True)
    assert "<h1>Last 6 months</h1>" in english and table_rows(english)[-1][0] == "Nov 2026"
    outside = client.post(
        "/app/language", data={"csrf_token": token, "language": "hi", "next": "//evil.example/app"}
    )
    assert outside.headers["Location"] == "/app"
    assert client.post("/app/language", data={"language": "hi"}).status_code == 400  # CSRF


def test_wrong_and_malformed_codes_on_the_page_say_why(
    people: Consumers, app_sign_in: AppSignIn, csrf_token: Callable[[str], str], session: Any
) -> None:
    client = app_sign_in.client
    token = csrf_token(client.get("/app/sign-in").get_data(as_text=True))
    bad = client.post("/app/sign-in", data={"csrf_token": token, "ivrs": "<script>x</script>"})
    assert bad.status_code == 422 and "Enter a valid IVRS number." in bad.get_data(as_text=True)
    assert "<script>x" not in bad.get_data(as_text=True)
    client.post("/app/sign-in", data={"csrf_token": token, "ivrs": "RC1"})
    code = app_sign_in.last_code("+919800000001")
    short = client.post("/app/sign-in/code", data={"csrf_token": token, "otp": "12"})
    assert short.status_code == 422 and "Enter the six digits of the code." in short.get_data(as_text=True)
    wrong = client.post(
        "/app/sign-in/code", data={"csrf_token": token, "otp": f"{(int(code) + 1) % 10**6:06d}"}
    )
    assert wrong.status_code == 401 and "The code is wrong." in wrong.get_data(as_text=True)
    assert session.execute(text("SELECT attempts FROM consumer_otps")).scalar_one() == 1
    assert client.get("/app").status_code == 302


def test_sign_out_ends_the_pages_and_the_same_token_on_the_api(
    loaded: Consumers, app_sign_in: AppSignIn, csrf_token: Callable[[str], str], session: Any
) -> None:
    client = sign_in_on_the_page(app_sign_in, csrf_token, "RC1", "+919800000001")
    token = csrf_token(client.get("/app").get_data(as_text=True))
    assert client.post("/app/sign-out", data={"csrf_token": token}).headers["Location"] == "/app/sign-in"
    assert client.get("/app").status_code == 302
    revoked = session.execute(text("SELECT count(*) FROM consumer_app_tokens WHERE revoked_at IS NOT NULL"))
    assert revoked.scalar_one() == 1
