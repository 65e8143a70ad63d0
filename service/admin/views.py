"""Admin pages: users (create, role, org unit, active, reset password) and API keys (create, shown
once, revoke), each scoped to the admin's org subtree."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from service.auth import ROLES, SCOPES, ApiKey, User
from service.auth.api_keys import ApiKeyError, create_key, revoke_key
from service.auth.principal import for_user
from service.auth.scoping import can_see, scope_to_org
from service.auth.users import UserError, change_user, create_user, reset_password
from service.auth.views import role_required
from service.extensions import db
from service.orgs import OrgUnit
from service.unit_of_work import unit_of_work
from service.web import lists

bp = Blueprint("admin", __name__, template_folder="templates")

USERS = lists.ListSpec(
    name="users",
    sorts={
        "username": (User.username, False),
        "role": (User.role, False),
        "created": (User.created_at, True),
    },
    default_sort="username",
    tiebreak=User.id,
    columns=(
        lists.Column("Username", lambda r: r[0].username),
        lists.Column("Name", lambda r: r[0].full_name),
        lists.Column("Role", lambda r: r[0].role),
        lists.Column("Org unit", lambda r: r[1]),
        lists.Column("Mobile", lambda r: r[0].mobile),
        lists.Column("Active", lambda r: r[0].is_active),
        lists.Column("Created (IST)", lambda r: r[0].created_at),
    ),
    filters={"q": "Username", "role": "Role"},
    rows="rows",
)
KEYS = lists.ListSpec(
    name="api-keys",
    sorts={"created": (ApiKey.created_at, True), "system": (ApiKey.system, False)},
    default_sort="created",
    tiebreak=ApiKey.id,
    columns=(
        lists.Column("Prefix", lambda r: r[0].prefix),
        lists.Column("System", lambda r: r[0].system),
        lists.Column("Scopes", lambda r: " ".join(r[0].scopes)),
        lists.Column("Org unit", lambda r: r[1]),
        lists.Column("Created (IST)", lambda r: r[0].created_at),
        lists.Column("Last used (IST)", lambda r: r[0].last_used_at),
        lists.Column("Revoked (IST)", lambda r: r[0].revoked_at),
    ),
    filters={"system": "System"},
    rows="rows",
)


def _principal() -> Any:
    return for_user(current_user)


def _org_allowed(code: str) -> bool:
    org_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code[:32]))
    return org_id is not None and can_see(db.session(), _principal(), org_id)


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not can_see(db.session(), _principal(), user.org_unit_id):
        abort(404)
    return user


@bp.get("/admin/users")
@role_required("admin")
def users() -> Any:
    from service.web.views import list_export

    stmt = scope_to_org(
        select(User, OrgUnit.code).join(OrgUnit, OrgUnit.id == User.org_unit_id),
        User.org_unit_id,
        _principal(),
    )
    if q := (request.args.get("q") or "").strip()[:64]:
        stmt = stmt.where(User.username.icontains(q, autoescape=True))
    if (role := request.args.get("role") or "") in ROLES:
        stmt = stmt.where(User.role == role)
    if request.args.get("export"):
        return list_export(USERS, stmt)
    lp = lists.read_page(db.session(), USERS, stmt, request.args, url_for("admin.users"))
    return render_template("admin/users.html", lp=lp, roles=ROLES, password=None)


@bp.post("/admin/users")
@role_required("admin")
def create() -> Any:
    form = request.form
    username, org = form.get("username", "").strip()[:64], form.get("org_unit", "").strip()[:32]
    if not username.replace("_", "").replace(".", "").isalnum():
        flash("Username: letters, digits, '_' and '.' only.", "error")
        return redirect(url_for("admin.users"))
    if not _org_allowed(org):
        flash(f"Org unit {org!r} is not in your area.", "error")
        return redirect(url_for("admin.users"))
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            create_user(
                session, username, form.get("password", ""), form.get("role", ""), org, _principal().actor,
                full_name=form.get("full_name", "").strip()[:200], mobile=form.get("mobile", "").strip()[:16] or None,
            )  # fmt: skip
        except UserError as exc:
            flash(str(exc), "error")
            return redirect(url_for("admin.users"))
        uow.commit()
    flash(f"User {username} created.", "ok")
    return redirect(url_for("admin.users", q=username))


@bp.post("/admin/users/<int:user_id>")
@role_required("admin")
def change(user_id: int) -> Response:
    user = _user_or_404(user_id)
    org = request.form.get("org_unit", "").strip()[:32]
    if not _org_allowed(org):
        flash(f"Org unit {org!r} is not in your area.", "error")
        return redirect(url_for("admin.users", q=user.username))
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            change_user(
                session,
                _principal().actor,
                user,
                request.form.get("role", ""),
                org,
                bool(request.form.get("is_active")),
            )
        except UserError as exc:
            flash(str(exc), "error")
            return redirect(url_for("admin.users", q=user.username))
        uow.commit()
    flash(f"User {user.username} updated.", "ok")
    return redirect(url_for("admin.users", q=user.username))


@bp.post("/admin/users/<int:user_id>/password")
@role_required("admin")
def password(user_id: int) -> Any:
    """A generated temporary password, shown once on this answer (never flashed or stored)."""
    user = _user_or_404(user_id)
    temporary = secrets.token_urlsafe(12)
    with unit_of_work(db.session()) as uow:
        reset_password(uow.session, _principal().actor, user, temporary)
        uow.commit()
    stmt = scope_to_org(
        select(User, OrgUnit.code).join(OrgUnit, OrgUnit.id == User.org_unit_id),
        User.org_unit_id,
        _principal(),
    ).where(User.id == user.id)
    lp = lists.read_page(db.session(), USERS, stmt, {}, url_for("admin.users"))
    page = render_template("admin/users.html", lp=lp, roles=ROLES, password=(user.username, temporary))
    return page, 200, {"Cache-Control": "no-store"}


def _keys_page(raw: str | None = None) -> Any:
    from service.web.views import list_export

    stmt = scope_to_org(
        select(ApiKey, OrgUnit.code).outerjoin(OrgUnit, OrgUnit.id == ApiKey.org_unit_id),
        ApiKey.org_unit_id,
        _principal(),
    )
    if system := (request.args.get("system") or "").strip()[:64]:
        stmt = stmt.where(ApiKey.system == system)
    if request.args.get("export"):
        return list_export(KEYS, stmt)
    lp = lists.read_page(db.session(), KEYS, stmt, request.args, url_for("admin.api_keys"))
    page = render_template("admin/api_keys.html", lp=lp, scopes=SCOPES, raw=raw)
    return page, 200, {"Cache-Control": "no-store"}


@bp.get("/admin/api-keys")
@role_required("admin")
def api_keys() -> Any:
    return _keys_page()


@bp.post("/admin/api-keys")
@role_required("admin")
def create_api_key() -> Any:
    org = request.form.get("org_unit", "").strip()[:32]
    principal = _principal()
    org_id = None
    if org:
        if not _org_allowed(org):
            flash(f"Org unit {org!r} is not in your area.", "error")
            return redirect(url_for("admin.api_keys"))
        org_id = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == org))
    elif principal.org_unit_id is not None:
        org_id = principal.org_unit_id  # an admin below the discom cannot make a discom-wide key
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            key, raw = create_key(
                session,
                request.form.get("system", "").strip()[:64],
                request.form.getlist("scope"),
                principal.actor,
                org_id,
            )
        except ApiKeyError as exc:
            flash(str(exc), "error")
            return redirect(url_for("admin.api_keys"))
        uow.commit()
    flash(f"API key {key.prefix} created for {key.system}.", "ok")
    return _keys_page(raw)


@bp.post("/admin/api-keys/<prefix>/revoke")
@role_required("admin")
def revoke(prefix: str) -> Response:
    key = db.session.scalar(select(ApiKey).where(ApiKey.prefix == prefix[:16]))
    if key is None or (key.org_unit_id is None and _principal().org_unit_id is not None):
        abort(404)
    if key.org_unit_id is not None and not can_see(db.session(), _principal(), key.org_unit_id):
        abort(404)
    with unit_of_work(db.session()) as uow:
        revoke_key(uow.session, prefix, _principal().actor)
        uow.commit()
    flash(f"API key {prefix} revoked: it no longer authenticates.", "ok")
    return redirect(url_for("admin.api_keys"))
