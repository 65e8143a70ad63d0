"""Outages API: planned outages from staff and SCADA/OMS (API key, scope outages:write)."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from service.api_errors import fail
from service.auth.guards import current_principal, require
from service.outages import live, planned
from service.outages.jobs import now_utc
from service.outages.models import PlannedOutage
from service.unit_of_work import unit_of_work

bp = Blueprint("outages_api", __name__, url_prefix="/api/v1", description="Planned and live outages")
STAFF_ROLES = ("control_centre", "field_officer")
MAX_BODY = 16 * 1024


def planned_read(outage: PlannedOutage) -> dict[str, Any]:
    return {
        "id": outage.id,
        "source": outage.source,
        "external_id": outage.external_id,
        "level": outage.level,
        "code": outage.subject,
        "starts_at": outage.starts_at.isoformat(),
        "ends_at": outage.ends_at.isoformat(),
        "reason": outage.reason,
        "status": outage.status,
        "revision": outage.revision,
        "consumers_affected": outage.consumers_affected,
    }


def _body() -> dict[str, Any]:
    if (request.content_length or 0) > MAX_BODY:
        fail(413, "too_large", f"A planned outage is at most {MAX_BODY} bytes of JSON.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        fail(400, "invalid_json", "Send a JSON object (Content-Type: application/json).")
    return body


def _refused(exc: planned.PlannedOutageRefused) -> NoReturn:
    fail(exc.status, exc.error, str(exc), **({"field": exc.field} if exc.field else {}))


@bp.route("/outages/planned", methods=["POST"])
@require("outages:write", roles=STAFF_ROLES)
def post_planned() -> ResponseReturnValue:
    """Record a planned outage {level: feeder|dt, code, starts_at, ends_at (ISO 8601 with offset),
    reason, external_id?}. SCADA/OMS send their own `external_id`: the same again changes
    nothing (200), new times are a change (200, consumers told again); new is 201."""
    body = _body()
    principal = current_principal()
    source = principal.name if principal.kind == "system" else "staff"
    with unit_of_work() as uow:
        try:
            done = planned.record_planned(uow.session, principal, body, now_utc(), source=source)
        except planned.PlannedOutageRefused as exc:
            return _refused(exc)
        answer = planned_read(done.outage) | {"outcome": done.outcome}
        uow.commit()
    return answer, 201 if done.outcome == "created" else 200


@bp.route("/outages/planned/<int:outage_id>", methods=["PUT"])
@require("outages:write", roles=STAFF_ROLES)
def put_planned(outage_id: int) -> ResponseReturnValue:
    """New times (an extension) or reason: {starts_at, ends_at, reason?}."""
    body = _body()
    with unit_of_work() as uow:
        try:
            done = planned.change_planned(uow.session, current_principal(), outage_id, body, now_utc())
        except planned.PlannedOutageRefused as exc:
            return _refused(exc)
        answer = planned_read(done.outage) | {"outcome": done.outcome}
        uow.commit()
    return answer, 200


@bp.route("/outages/planned/<int:outage_id>/cancel", methods=["POST"])
@require("outages:write", roles=STAFF_ROLES)
def cancel_planned(outage_id: int) -> ResponseReturnValue:
    """Cancel; the consumers already told hear of it. Cancelling twice changes nothing."""
    with unit_of_work() as uow:
        try:
            done = planned.cancel_planned(uow.session, current_principal(), outage_id, now_utc())
        except planned.PlannedOutageRefused as exc:
            return _refused(exc)
        answer = planned_read(done.outage) | {"outcome": done.outcome}
        uow.commit()
    return answer, 200


@bp.route("/outages", methods=["GET"])
@require("outages:read")
def live_outages() -> ResponseReturnValue:
    """Live outages for the CCC portal: inferred and still open, or planned and in progress;
    filters circle, division, feeder, dt, level (feeder|dt|meter), kind (inferred|planned);
    `page`, `per_page` (25, 50, 100, 200); scoped to the caller's org unit; times ISO 8601."""
    from service.extensions import db
    from service.web import lists

    args = live.clean_args(request.args)
    stmt = live.live_query(current_principal(), args, now_utc())
    lp = lists.read_page(db.session(), live.LIVE, stmt, request.args, request.path)
    return {
        "items": [live.as_json(r) for r in lp.rows],
        "total": lp.total,
        "page": lp.page,
        "per_page": lp.per_page,
    }, 200
