"""VEE API: re-run, edits, rule insight, billing determinants (pull and compute/push)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import request
from flask_smorest import Blueprint
from sqlalchemy import select

from service.api_errors import fail
from service.auth.guards import current_principal, require
from service.auth.scoping import can_see
from service.extensions import db
from service.masterdata import Consumer, Meter
from service.unit_of_work import unit_of_work
from service.vee import bulk, determinants, insight, rulebook
from service.vee.edits import EditError, edit_interval
from service.vee.rerun import rerun_range

bp = Blueprint(
    "vee_api", __name__, url_prefix="/api/v1", description="Validation, estimation, editing, determinants"
)
EDIT_ROLES = ("analyst", "field_officer")


def _json() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        fail(400, "invalid_json", "Send a JSON object (Content-Type: application/json).")
    return body


def _field(body: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in body:
        fail(422, "missing_field", f"'{name}' is required.", field=name)
    value = body[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        fail(422, "invalid_field", f"'{name}' has the wrong type.", field=name)
    return value


def _date(body: dict[str, Any], name: str) -> date:
    try:
        return date.fromisoformat(_field(body, name, str))
    except ValueError:
        fail(422, "invalid_field", f"'{name}' must be a date YYYY-MM-DD.", field=name)


@bp.route("/vee/rerun", methods=["POST"])
@require("readings:write", roles=("analyst",))
def rerun() -> Any:
    """Re-run VEE for meters (serial numbers) over local days [from, to]; results replace."""
    body = _json()
    serials = _field(body, "meters", list)
    if not all(isinstance(s, str) for s in serials):
        fail(422, "invalid_field", "'meters' must be a list of serial numbers.", field="meters")
    principal = current_principal()
    session = db.session()
    for serial in serials:
        org = session.scalar(select(Meter.org_unit_id).where(Meter.serial_number == serial))
        if org is not None and not can_see(session, principal, org):
            fail(404, "unknown_meter", f"Unknown meter {serial!r}.", field="meters")
    with unit_of_work(session) as uow:
        try:
            summary = rerun_range(session, principal.actor, serials, _date(body, "from"), _date(body, "to"))
        except ValueError as exc:
            fail(422, "invalid_rerun", str(exc))
        uow.commit()
    return summary.as_dict()


@bp.route("/vee/edits", methods=["POST"])
@require("readings:write", roles=EDIT_ROLES)
def edit() -> Any:
    """Edit an interval value with a reason; the original is kept and the day re-validated."""
    body = _json()
    serial = _field(body, "meter", str)
    channel = _field(body, "channel", str)
    value = _field(body, "value", (int, float))
    reason = _field(body, "reason", str)
    try:
        ts = datetime.fromisoformat(_field(body, "interval_end", str))
    except ValueError:
        fail(
            422, "invalid_field", "'interval_end' must be an ISO 8601 time with offset.", field="interval_end"
        )
    if ts.tzinfo is None:
        fail(422, "invalid_field", "'interval_end' needs a UTC offset.", field="interval_end")
    session = db.session()
    principal = current_principal()
    meter = session.scalar(select(Meter).where(Meter.serial_number == serial))
    if meter is None or not can_see(session, principal, meter.org_unit_id):
        fail(404, "unknown_meter", f"Unknown meter {serial!r}.", field="meter")
    with unit_of_work(session) as uow:
        try:
            result = edit_interval(session, principal.actor, meter.id, channel, ts, float(value), reason)
        except EditError as exc:
            fail(exc.status, exc.code, exc.message)
        uow.commit()
    return {**vars(result), "meter": serial}, 201


@bp.route("/vee/rules", methods=["GET"])
@require("readings:read")
def rules() -> Any:
    """Every rule in force with hits per day and per org unit (last `days`, default 30)."""
    days = request.args.get("days", "30")
    if not days.isdigit() or not 1 <= int(days) <= 366:
        fail(422, "invalid_field", "'days' must be 1..366.", field="days")
    rows = insight.rules_with_hits(db.session(), current_principal(), int(days))
    return {"rules": rows}


@bp.route("/vee/rules/reload", methods=["POST"])
@require("rules:write", roles=("analyst",))
def reload_rules() -> Any:
    """Pick up rule file changes now (the reload job does it every minute); each is audited."""
    with unit_of_work() as uow:
        changes = rulebook.reload_now(uow.session)
        uow.commit()
    return {"changes": [{"kind": c.kind, "file": c.file} for c in changes]}


@bp.route("/vee/rules/<rule_id>/failures", methods=["GET"])
@require("readings:read")
def rule_failures(rule_id: str) -> Any:
    return {"rule_id": rule_id, "failures": insight.failures_of(db.session(), current_principal(), rule_id)}


def _consumer(ivrs: str | None) -> Consumer:
    if not ivrs:
        fail(422, "missing_field", "'consumer' (IVRS number) is required.", field="consumer")
    consumer = db.session.scalar(select(Consumer).where(Consumer.ivrs_number == ivrs))
    if consumer is None or not can_see(db.session(), current_principal(), consumer.org_unit_id):
        fail(404, "unknown_consumer", f"Unknown consumer {ivrs!r}.", field="consumer")
    return consumer


@bp.route("/determinants", methods=["GET"])
@require("determinants:read")
def get_determinants() -> Any:
    """Billing determinants of a consumer and month, computed now from validated data."""
    consumer = _consumer(request.args.get("consumer"))
    period = request.args.get("period") or ""
    try:
        payload = bulk.compute_for_period(db.session(), period, [consumer.id]).get(consumer.id)
    except ValueError as exc:
        fail(422, "invalid_field", str(exc), field="period")
    if payload is None:
        fail(404, "no_installation", "The consumer had no meter installed in that period.")
    return payload


@bp.route("/determinants/publish", methods=["POST"])
@require("readings:write", roles=("analyst",))
def publish() -> Any:
    """Compute and queue the push of a consumer's determinants to billing (idempotent)."""
    body = _json()
    consumer = _consumer(_field(body, "consumer", str))
    period = _field(body, "period", str)
    with unit_of_work() as uow:
        try:
            payload = bulk.compute_for_period(uow.session, period, [consumer.id]).get(consumer.id)
        except ValueError as exc:
            fail(422, "invalid_field", str(exc), field="period")
        if payload is None:
            fail(404, "no_installation", "The consumer had no meter installed in that period.")
        row, new = determinants.publish(uow.session, consumer.id, period, payload)
        uow.commit()
    return {"revision": row.revision, "queued": new, "determinants": row.payload}, 202 if new else 200
