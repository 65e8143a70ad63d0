"""DO/RC lists from billing, payment notices, and the officers' and authority's steps on a part."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import request
from flask_smorest import Blueprint

from service.api_errors import fail
from service.auth.guards import current_principal, require
from service.disconnections import flow, intake, listing
from service.disconnections.flow import StepRefused
from service.extensions import db
from service.masterdata.supply import consumers_by_ivrs
from service.notifications import otp
from service.unit_of_work import unit_of_work

systems_bp = Blueprint("disconnections_api", __name__, url_prefix="/api/v1", description="DO and RC lists")
staff_bp = Blueprint("disconnection_steps", __name__, url_prefix="/api/v1/disconnections/parts",
                     description="Verification, approval and OTP of a DO-list part")  # fmt: skip


def _now() -> datetime:
    # Wall time: OTP validity and audit times are real; only the safety rules read the clock port.
    return datetime.now(UTC)


def _list(kind: str) -> Any:
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            result = intake.take_body(session, kind, request.get_json(silent=True), current_principal().actor)
        except intake.ListRefused as exc:
            fail(exc.status, exc.error, str(exc), **exc.details)
        uow.commit()
    return result.as_dict()


@systems_bp.route("/disconnections/orders", methods=["POST"])
@require("disconnections:write")
def post_do_list() -> Any:
    """The DO list: {"list_ref", "rows": [{"ivrs_number", "amount_due_inr"}]}. Rows that cannot be
    taken are rejected by row with the reason; the others go to their division's verification."""
    return _list("disconnect")


@systems_bp.route("/reconnections/orders", methods=["POST"])
@require("disconnections:write")
def post_rc_list() -> Any:
    """The RC list (dues and reconnection charges paid): commands go out at once."""
    return _list("reconnect")


@systems_bp.route("/disconnections/payments", methods=["POST"])
@require("disconnections:write")
def post_payment() -> Any:
    """A payment notice: the consumer's disconnection not yet sent is cancelled (others' stay)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("ivrs_number"), str):
        fail(422, "invalid_field", "ivrs_number is required.", field="ivrs_number")
    reference = str(body.get("reference") or "")[:64]
    session = db.session()
    with unit_of_work(session) as uow:
        facts = consumers_by_ivrs(session, [body["ivrs_number"]]).get(body["ivrs_number"])
        if facts is None:
            fail(404, "unknown_consumer", "No consumer has this IVRS number.", field="ivrs_number")
        cancelled = flow.cancel_for_payment(
            session, current_principal(), facts.consumer_id, reference, _now()
        )
        uow.commit()
    return {"cancelled_orders": cancelled}


def _refused(exc: StepRefused) -> Any:
    fail(exc.status, exc.error, str(exc))


@staff_bp.route("/<int:part_id>", methods=["GET"])
@require("disconnections:read")
def get_part(part_id: int) -> Any:
    """The part's orders (filters: state, q = IVRS search; page), with the totals by state."""
    session = db.session()
    try:
        part = flow.part_for(session, current_principal(), part_id)
    except StepRefused as exc:
        _refused(exc)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    return listing.part_view(session, part, request.args.get("state"), request.args.get("q"), page)


@staff_bp.route("/<int:part_id>/drops", methods=["POST"])
@require("disconnections:write", roles=("field_officer",))
def post_drops(part_id: int) -> Any:
    body = request.get_json(silent=True) or {}
    ids = body.get("order_ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        fail(422, "invalid_field", "order_ids: a list of order ids.", field="order_ids")
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            dropped = flow.drop(session, current_principal(), part_id, ids, str(body.get("reason") or ""))
        except StepRefused as exc:
            _refused(exc)
        uow.commit()
    return {"dropped": dropped}


@staff_bp.route("/<int:part_id>/approve", methods=["POST"])
@require("disconnections:write", roles=("field_officer",))
def post_approve(part_id: int) -> Any:
    body = request.get_json(silent=True) or {}
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            part = flow.approve(session, current_principal(), part_id, str(body.get("remarks") or ""), _now())
        except StepRefused as exc:
            _refused(exc)
        uow.commit()
    return {"part_id": part.id, "state": part.state}


@staff_bp.route("/<int:part_id>/otp", methods=["POST"])
@require("disconnections:write", roles=("control_centre",))
def post_otp(part_id: int) -> Any:
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            issued = flow.send_otp(session, current_principal(), part_id, _now())
        except StepRefused as exc:
            _refused(exc)
        except otp.OtpLimitReached as exc:
            fail(429, "otp_limit", str(exc), retry_after_seconds=exc.retry_after_seconds)
        uow.commit()
    return {"otp_id": issued.otp_id, "expires_at": issued.expires_at.isoformat()}


@staff_bp.route("/<int:part_id>/confirm", methods=["POST"])
@require("disconnections:write", roles=("control_centre",))
def post_confirm(part_id: int) -> Any:
    body = request.get_json(silent=True) or {}
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            result = flow.confirm(session, current_principal(), part_id, str(body.get("otp") or ""), _now())
        except StepRefused as exc:
            _refused(exc)
        uow.commit()  # a wrong code counts: the attempt is kept
    if not result.ok:
        locked = result.reason in ("attempts_exhausted",) or result.attempts_left == 0
        fail(422, "otp_" + result.reason, "The OTP is locked: request a new one." if locked
             else "The OTP does not match.", attempts_left=result.attempts_left, locked=locked)  # fmt: skip
    return {"part_id": part_id, "state": "confirmed"}
