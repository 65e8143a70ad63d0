"""Admin pages: users created, changed and reset within the admin's area; API keys shown once,
stored hashed, revoked; CSRF on every form."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sqlalchemy import select

from service.audit.log import Actor
from service.auth.models import ApiKey, User
from service.auth.users import create_user
from service.extensions import db


def _token(client: Any, csrf_token: Any, path: str) -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def test_admin_creates_a_user_changes_their_role_and_resets_the_password(
    discom, login, csrf_token, client
) -> None:
    admin = login("admin")
    token = _token(admin, csrf_token, "/admin/users")
    form = {"csrf_token": token, "username": "je_new", "role": "field_officer", "org_unit": "BPLC-D1-S1-DC2",
            "password": "long-enough-1", "full_name": "JE New"}  # fmt: skip
    assert admin.post("/admin/users", data={**form, "password": "short"}).status_code == 302
    assert db.session.scalar(select(User).where(User.username == "je_new")) is None
    created = admin.post("/admin/users", data=form)
    assert created.status_code == 302 and "User je_new created." in admin.get(
        created.headers["Location"]
    ).get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.username == "je_new"))
    assert user.role == "field_officer"
    changed = admin.post(
        f"/admin/users/{user.id}", data={"csrf_token": token, "role": "viewer", "org_unit": "BPLC-D1"}
    )
    assert changed.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.role, user.is_active) == ("viewer", False)  # the unticked box deactivates
    reset = admin.post(f"/admin/users/{user.id}/password", data={"csrf_token": token})
    assert reset.headers["Cache-Control"] == "no-store"
    temporary = re.search(r"<code>([^<]+)</code>", reset.get_data(as_text=True)).group(1)
    assert len(temporary) >= 12 and temporary not in admin.get("/admin/users").get_data(as_text=True)
    no_token = admin.post("/admin/users", data={k: v for k, v in form.items() if k != "csrf_token"})
    assert no_token.status_code == 400


def test_an_admin_below_the_discom_works_only_in_their_area(discom, login, csrf_token) -> None:
    create_user(db.session(), "admin_bplc", "long-enough-1", "admin", "BPLC", Actor("cli", "test"))
    db.session.commit()
    client = login("admin_bplc", "long-enough-1")
    html = client.get("/admin/users?per_page=200").get_data(as_text=True)
    assert 'data-username="je_east11"' in html and 'data-username="ee_sehore"' not in html
    token = _token(client, csrf_token, "/admin/users")
    outside = client.post("/admin/users", data={"csrf_token": token, "username": "x_shr", "role": "viewer",
                                                "org_unit": "SHR-D1", "password": "long-enough-1"})  # fmt: skip
    assert "is not in your area" in client.get(outside.headers["Location"]).get_data(as_text=True)
    sehore = db.session.scalar(select(User.id).where(User.username == "ee_sehore"))
    assert client.post(f"/admin/users/{sehore}/password", data={"csrf_token": token}).status_code == 404
    client.post(
        "/admin/api-keys", data={"csrf_token": token, "system": "billing", "scope": ["masterdata:read"]}
    )
    key = db.session.scalar(select(ApiKey).where(ApiKey.system == "billing"))
    assert key.org_unit_id is not None  # not discom-wide


def test_api_key_is_shown_once_stored_hashed_and_revoked(discom, login, csrf_token, client) -> None:
    admin = login("admin")
    token = _token(admin, csrf_token, "/admin/api-keys")
    made = admin.post(
        "/admin/api-keys",
        data={"csrf_token": token, "system": "hes-a", "scope": ["readings:write", "events:write"]},
    )
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    raw = re.search(r'<code id="new-key-value">([^<]+)</code>', made.get_data(as_text=True)).group(1)
    key = db.session.scalar(select(ApiKey).where(ApiKey.system == "hes-a"))
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest() and raw not in str(key.__dict__)
    assert raw not in admin.get("/admin/api-keys").get_data(as_text=True)  # never again
    assert sorted(key.scopes) == ["events:write", "readings:write"]
    bad = admin.post("/admin/api-keys", data={"csrf_token": token, "system": "x", "scope": ["root"]})
    assert "unknown scope(s): root" in admin.get(bad.headers["Location"]).get_data(as_text=True)
    admin.post(f"/admin/api-keys/{key.prefix}/revoke", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).revoked_at is not None
    refused = client.get("/api/v1/masterdata/consumers", headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 401
