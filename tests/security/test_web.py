"""Issue 20 items 12, 14, 15, 16: login throttling, server-side session revocation, security
headers, and one safe-redirect check for login and the task form."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from service.audit.models import AuditEntry
from service.masterdata.demo import DEMO_PASSWORD
from tests.conftest import _csrf_from


def _try_login(client: Any, username: str, password: str, address: str = "10.0.0.1", next_: str = "") -> Any:
    page = client.get("/login")
    url = "/login" + (f"?next={next_}" if next_ else "")
    return client.post(
        url,
        data={
            "username": username,
            "password": password,
            "csrf_token": _csrf_from(page.get_data(as_text=True)),
        },
        environ_base={"REMOTE_ADDR": address},
    )


def _audit(action: str) -> int:
    from service.extensions import db

    return int(db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action)) or 0)


def test_five_wrong_passwords_lock_the_account_for_a_while_even_for_the_right_one(
    discom: Any, client: Any
) -> None:
    for _ in range(5):
        assert _try_login(client, "ee_east", "wrong-password").status_code == 401
    held = _try_login(client, "ee_east", DEMO_PASSWORD)
    assert held.status_code == 429
    assert "Too many failed logins for this account. Try again in 15 minutes." in held.get_data(as_text=True)
    assert 1 <= int(held.headers["Retry-After"]) <= 900
    assert (
        _try_login(client, "ee_west", DEMO_PASSWORD, address="10.0.0.2").status_code == 302
    )  # others unaffected
    assert (_audit("login_failed"), _audit("login_throttled")) == (5, 1)


def test_twenty_failures_from_one_address_hold_that_address_across_accounts(discom: Any, client: Any) -> None:
    for n in range(20):
        assert _try_login(client, f"nobody{n}", "wrong-password", address="10.9.9.9").status_code == 401
    held = _try_login(client, "ee_east", DEMO_PASSWORD, address="10.9.9.9")
    assert held.status_code == 429
    assert "Too many failed logins for your address" in held.get_data(as_text=True)
    assert _try_login(client, "ee_east", DEMO_PASSWORD, address="10.9.9.10").status_code == 302


def test_a_session_cookie_stops_working_after_logout(discom: Any, client: Any, login: Any) -> None:
    login("ee_east")
    cookie = client.get_cookie("session")
    assert cookie is not None and client.get("/work").status_code == 200
    token = _csrf_from(client.get("/work").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    client.set_cookie("session", cookie.value)  # the copied cookie, replayed
    replayed = client.get("/work")
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]
    assert client.get("/api/v1/masterdata/consumers").status_code == 401


def test_a_password_change_ends_every_session_of_the_user(
    discom: Any, client: Any, login: Any, app: Any
) -> None:
    login("ee_east")
    assert client.get("/work").status_code == 200
    result = app.test_cli_runner().invoke(
        args=["users", "set-password", "ee_east", "--password", "a-new-long-password"]
    )
    assert result.exit_code == 0, result.output
    assert client.get("/work").status_code == 302
    assert _audit("set_password") == 1


def test_pages_and_api_answers_carry_the_security_headers(discom: Any, client: Any, login: Any) -> None:
    page = client.get("/login")
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert (page.headers["X-Content-Type-Options"], page.headers["X-Frame-Options"]) == ("nosniff", "DENY")
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in page.headers  # plain http here
    login("ee_east")
    consumers = client.get("/consumers")
    assert consumers.status_code == 200 and consumers.headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/masterdata/consumers").headers["Cache-Control"] == "no-store"
    css = client.get("/static/cmdms.css")
    assert css.status_code == 200 and css.headers.get("Cache-Control") != "no-store"
    secure = client.get("/login", base_url="https://cmdms.example.in")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "'unsafe-inline'" in docs.headers["Content-Security-Policy"]
    assert not re.search(r"<script>(?!\s*$)", consumers.get_data(as_text=True))  # no inline script


def test_login_redirects_only_to_paths_on_this_site(discom: Any, client: Any) -> None:
    for n, hostile in enumerate(["/\\evil.example", "//evil.example", "https://evil.example/", "/\t/evil.example",
                                 "javascript:alert(1)", "/%5Cevil.example"]):  # fmt: skip
        answer = _try_login(client, "ee_east", DEMO_PASSWORD, address=f"10.1.0.{n}", next_=hostile)
        assert answer.status_code == 302
        location = answer.headers["Location"]
        assert location in ("/", "http://localhost/") or location.startswith("/%5C"), (hostile, location)
        assert "evil.example" not in location.split("?")[0] or location.startswith("/%5C"), (
            hostile,
            location,
        )
    kept = _try_login(client, "ee_east", DEMO_PASSWORD, address="10.1.1.1", next_="/work?scope=mine")
    assert kept.headers["Location"] == "/work?scope=mine"


def test_the_task_form_next_cannot_lead_off_site(
    processes_app: Any, discom: Any, client: Any, login: Any
) -> None:
    from service.extensions import db
    from service.masterdata.models import OrgUnit
    from tests.processes.helpers import inspection_data, open_items, start

    org = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "BPLC-D1-S1-DC1"))
    item = open_items(start("field_inspection", inspection_data(77), org))[0]
    login("je_east11")
    page = client.get(f"/work/{item.id}").get_data(as_text=True)
    answer = client.post(
        f"/work/{item.id}/claim", data={"csrf_token": _csrf_from(page), "next": "/\\evil.example"}
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/work/{item.id}"
