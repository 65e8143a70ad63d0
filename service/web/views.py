"""The landing page (panels by role and the area's counts), list exports, error pages, language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import HTTPException

from service.auth.principal import for_user
from service.auth.redirects import safe_next
from service.extensions import db
from service.orgs import OrgUnit
from service.web import home as home_panels

bp = Blueprint("web", __name__)


@bp.get("/")
@login_required
def home() -> str:
    principal = for_user(current_user)
    org = db.session.get(OrgUnit, principal.org_unit_id)
    panels = home_panels.panels_for(db.session(), principal, datetime.now(UTC))
    return render_template(
        "home.html",
        org=org,
        panels=panels,
        **home_panels.area_counts(db.session(), principal),
    )


def list_export(spec: Any, stmt: Any) -> Any:
    """The `?export=csv|xlsx` answer of a list page: the whole filtered list, or back with why."""
    from service.web import lists
    from service.web.times import ist_today

    try:
        return lists.export(db.session(), spec, stmt, request.args, ist_today(datetime.now(UTC)))
    except lists.ExportTooLarge as exc:
        flash(str(exc), "error")
        args = {k: v for k, v in request.args.items() if k != "export"}
        return redirect(request.path + ("?" + urlencode(args) if args else ""))


ERRORS = {
    400: ("Request not understood", "The page could not use what was sent. If a form expired, reload it and try again."),
    403: ("Not allowed", "Your role does not include this page. Ask an administrator if you need it."),
    404: ("Page not found", "There is no such page, or what it shows lies outside your area."),
    405: ("Not allowed this way", "This address does not take that kind of request."),
    413: ("Too large", "What was sent is larger than this page accepts."),
    500: ("Something went wrong", "The error has been logged. Try again in a minute; if it stays, tell the administrator."),
}  # fmt: skip


def error_page(exc: HTTPException) -> tuple[str, int]:
    """A styled page for an HTTP error outside the API (the API answers JSON)."""
    code = exc.code or 500
    title, explanation = ERRORS.get(code, (exc.name, exc.description or ""))
    detail = exc.description if code in (400, 413) and exc.description else None
    return render_template("error.html", code=code, title=title, explanation=explanation, detail=detail), code


@bp.post("/settings/language")
@login_required
def language() -> Any:
    """The staff pages in English or Hindi: a per-person setting, audited."""
    from service.audit.log import record
    from service.unit_of_work import unit_of_work
    from service.web import LANGUAGES

    chosen = request.form.get("language", "")
    if chosen not in LANGUAGES:
        flash("Choose English or Hindi.", "error")
    else:
        with unit_of_work(db.session()) as uow:
            before = current_user.language
            current_user.language = chosen
            record(uow.session, for_user(current_user).actor, "update", "user", current_user.username,
                   {"language": before}, {"language": chosen})  # fmt: skip
            uow.commit()
    return redirect(safe_next(request.form.get("next"), url_for("web.home")))
