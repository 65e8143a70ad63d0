"""Pages of held data: the quarantine (replay, discard with a reason) and unmapped CIM event types."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from service.audit.log import Actor
from service.auth.principal import for_user
from service.auth.views import role_required
from service.extensions import db
from service.readings import event_types, quarantine, replay
from service.unit_of_work import unit_of_work

bp = Blueprint("readings_pages", __name__, template_folder="templates", url_prefix="/readings")

PAGE_SIZE = 50
VIEW_ROLES = ("analyst", "viewer")


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page") or 1), 1_000_000))
    except ValueError:
        return 1


def _actor() -> Actor:
    return Actor("user", current_user.username)


@bp.get("/quarantine")
@role_required(*VIEW_ROLES)
def quarantine_page() -> str:
    filters = {k: (request.args.get(k) or "").strip()[:64] or None for k in ("reason", "meter", "source")}
    page = _page()
    result = quarantine.list_groups(
        db.session(), for_user(current_user), page=page, page_size=PAGE_SIZE, **filters
    )
    pages = max(1, -(-result["total"] // PAGE_SIZE))
    return render_template(
        "readings/quarantine.html", filters=filters, pages=pages, can_manage=_can_manage(), **result
    )


def _can_manage() -> bool:
    return bool(current_user.role in ("analyst", "admin"))


@bp.post("/quarantine/replay")
@role_required("analyst")
def quarantine_replay() -> Any:
    with unit_of_work() as uow:
        done = replay.replay(uow.session, _actor(), limit=10_000)
        uow.commit()
    flash(f"Replayed {done['groups']} groups ({done['rows']} values).", "info")
    return redirect(url_for("readings_pages.quarantine_page"))


@bp.post("/quarantine/<int:group_id>/discard")
@role_required("analyst")
def quarantine_discard(group_id: int) -> Any:
    reason = (request.form.get("reason") or "").strip()[:500]
    if not reason:
        flash("Give the reason for discarding.", "error")
        return redirect(url_for("readings_pages.quarantine_page"))
    with unit_of_work() as uow:
        try:
            done = quarantine.discard(uow.session, for_user(current_user), group_id, reason, _actor())
        except quarantine.NotFound:
            flash(f"No quarantine group {group_id}.", "error")
            return redirect(url_for("readings_pages.quarantine_page"))
        uow.commit()
    flash(f"Discarded group {group_id} ({done['discarded']} values): {reason}", "info")
    return redirect(url_for("readings_pages.quarantine_page"))


@bp.get("/event-types")
@role_required(*VIEW_ROLES)
def event_types_page() -> str:
    page = _page()
    result = event_types.unmapped_types(db.session(), for_user(current_user), page, PAGE_SIZE)
    pages = max(1, -(-result["total"] // PAGE_SIZE))
    return render_template("readings/event_types.html", pages=pages, can_manage=_can_manage(), **result)


@bp.post("/event-types/reclassify")
@role_required("analyst")
def event_types_reclassify() -> Any:
    with unit_of_work() as uow:
        done = event_types.reclassify(
            uow.session, event_types.event_type_mapping(current_app.extensions["cmdms.config"]), _actor()
        )
        uow.commit()
    flash(f"Reclassified {done['events']} events of {done['types']} newly mapped types.", "info")
    return redirect(url_for("readings_pages.event_types_page"))
