"""The notifications page for the customer care centre and admins."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, render_template, request
from flask_login import current_user

from service.auth.principal import for_user
from service.auth.views import role_required
from service.extensions import db
from service.notifications.engine import current_engine
from service.notifications.listing import Filters, UnknownConsumer, list_notifications
from service.notifications.models import STATUSES

bp = Blueprint("notifications", __name__, template_folder="templates")


@bp.get("/notifications")
@role_required("ccc_agent")
def index() -> str:
    args = request.args
    errors: list[str] = []
    status = args.get("status") or None
    if status and status not in STATUSES:
        errors.append(f"status: unknown value {status!r}")
        status = None
    message_type = args.get("type") or None
    if message_type and message_type not in current_engine().policy.message_types:
        errors.append(f"type: unknown value {message_type!r}")
        message_type = None
    on_date = None
    if args.get("date"):
        try:
            on_date = date.fromisoformat(args["date"])
        except ValueError:
            errors.append("date: expected YYYY-MM-DD")
    filters = Filters(
        consumer_ivrs=(args.get("consumer") or "").strip() or None,
        status=status,
        message_type=message_type,
        on_date=on_date,
        limit=200,
    )
    rows = []
    try:
        rows = list_notifications(db.session(), for_user(current_user), filters)
    except UnknownConsumer:
        errors.append(f"consumer: no consumer {filters.consumer_ivrs!r} in your area")
    for error in errors:
        flash(error, "error")
    return render_template(
        "notifications/list.html",
        rows=rows,
        filters=filters,
        statuses=STATUSES,
        message_types=sorted(current_engine().policy.message_types),
    )
