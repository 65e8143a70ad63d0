"""The notifications page for the customer care centre and admins: the list component."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import false

from service.auth.principal import for_user
from service.auth.views import role_required
from service.extensions import db
from service.notifications.engine import current_engine
from service.notifications.listing import Filters, UnknownConsumer, filtered_query
from service.notifications.models import STATUSES, Notification
from service.web import lists
from service.web.views import list_export

bp = Blueprint("notifications", __name__, template_folder="templates")

SPEC = lists.ListSpec(
    name="notifications",
    sorts={
        "created": (Notification.id, True),
        "status": (Notification.status, False),
        "type": (Notification.message_type, False),
        "attempts": (Notification.attempts, True),
    },
    default_sort="created",
    tiebreak=Notification.id,
    columns=(
        lists.Column("Id", lambda r: r[0].id),
        lists.Column("Created (IST)", lambda r: r[0].created_at),
        lists.Column("Consumer IVRS", lambda r: r[1]),
        lists.Column("Staff user id", lambda r: r[0].user_id),
        lists.Column("Type", lambda r: r[0].message_type),
        lists.Column("Language", lambda r: r[0].language),
        lists.Column("Channel", lambda r: r[0].channel or r[0].channels),
        lists.Column("Status", lambda r: r[0].status),
        lists.Column("Attempts", lambda r: r[0].attempts),
        lists.Column("Message", lambda r: r[0].body),
        lists.Column("Error", lambda r: r[0].error),
        lists.Column("Sent (IST)", lambda r: r[0].sent_at),
        lists.Column("Delivered (IST)", lambda r: r[0].delivered_at),
    ),
    filters={"consumer": "Consumer", "status": "Status", "type": "Type", "date": "Date"},
    rows="rows",
)


@bp.get("/notifications")
@role_required("ccc_agent")
def index() -> Any:
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
        consumer_ivrs=(args.get("consumer") or "").strip()[:32] or None,
        status=status,
        message_type=message_type,
        on_date=on_date,
    )
    session = db.session()
    principal = for_user(current_user)
    try:
        stmt = filtered_query(session, principal, filters)
    except UnknownConsumer:
        errors.append(f"consumer: no consumer {filters.consumer_ivrs!r} in your area")
        stmt = filtered_query(session, principal, Filters()).where(false())
    for error in errors:
        flash(error, "error")
    if args.get("export"):
        return list_export(SPEC, stmt)
    lp = lists.read_page(session, SPEC, stmt, args, url_for("notifications.index"))
    return render_template(
        "notifications/list.html",
        lp=lp,
        filters=filters,
        statuses=STATUSES,
        message_types=sorted(current_engine().policy.message_types),
    )
