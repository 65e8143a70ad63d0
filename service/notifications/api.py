"""REST API: notification listing, device registration, Twilio status callbacks, staff OTPs."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from service.api_errors import fail
from service.audit.log import record
from service.auth import ROLES, guards
from service.auth.scoping import can_see
from service.extensions import db
from service.masterdata import Consumer
from service.notifications import otp, recipients
from service.notifications.engine import STATUS_CALLBACK_PATH, current_engine
from service.notifications.listing import Filters, UnknownConsumer, list_notifications
from service.notifications.schemas import (
    DeviceCreate,
    NotificationQuery,
    NotificationRead,
    OptOutUpdate,
    OtpCreate,
    OtpVerify,
)
from service.unit_of_work import unit_of_work

blp = Blueprint(
    "notifications_api", __name__, url_prefix="/api/v1", description="Notifications and staff OTPs"
)
STAFF_ROLES = tuple(r for r in ROLES if r != "admin")


@blp.route("/notifications", methods=["GET"])
@guards.require("notifications:read")
@blp.arguments(NotificationQuery, location="query")
@blp.response(200, NotificationRead(many=True))
def list_api(args: dict[str, Any]) -> Any:
    """Notifications, newest first, scoped to the caller's org unit."""
    filters = Filters(
        consumer_ivrs=args.get("consumer"),
        status=args.get("status"),
        message_type=args.get("type"),
        on_date=args.get("date"),
        before_id=args.get("before_id"),
        limit=args["limit"],
    )
    try:
        return list_notifications(db.session(), guards.current_principal(), filters)
    except UnknownConsumer:
        fail(
            404, "unknown_consumer", f"No consumer {filters.consumer_ivrs!r} in your area.", field="consumer"
        )


def _visible_consumer(session: Any, principal: Any, ivrs_number: str) -> Any:
    """(id, org_unit_id) of the consumer the caller may see, else 404."""
    consumer = session.execute(
        select(Consumer.id, Consumer.org_unit_id).where(Consumer.ivrs_number == ivrs_number)
    ).first()
    if consumer is None or not can_see(session, principal, consumer.org_unit_id):
        fail(404, "unknown_consumer", f"No consumer {ivrs_number!r}.", field="consumer")
    return consumer


@blp.route("/notifications/devices", methods=["POST"])
@guards.require("notifications:write")
@blp.arguments(DeviceCreate)
def register_device(args: dict[str, Any]) -> ResponseReturnValue:
    """The consumer app registers its FCM token for a consumer."""
    principal = guards.current_principal()
    with unit_of_work() as uow:
        session = uow.session
        consumer = _visible_consumer(session, principal, args["consumer"])
        token_id = recipients.register_device(
            session, consumer.id, args["token"], args["platform"], principal.actor
        )
        uow.commit()
    return jsonify({"device_id": token_id}), 201


@blp.route("/notifications/opt-out", methods=["PUT"])
@guards.require("notifications:write", roles=("ccc_agent",))
@blp.arguments(OptOutUpdate)
def set_opt_out(args: dict[str, Any]) -> ResponseReturnValue:
    """A consumer asks (through the CCC or the app) for no informational messages, or back."""
    principal = guards.current_principal()
    with unit_of_work() as uow:
        session = uow.session
        consumer = _visible_consumer(session, principal, args["consumer"])
        source = "ccc" if principal.kind == "user" else principal.name[:32]
        recipients.set_opt_out(session, consumer.id, args["opted_out"], principal.actor, source=source)
        uow.commit()
    return jsonify({"consumer": args["consumer"], "opted_out": args["opted_out"]}), 200


@blp.route("/notifications/twilio/status", methods=["POST"])
def twilio_status() -> ResponseReturnValue:
    """Twilio's delivery status callback, checked against X-Twilio-Signature."""
    engine = current_engine()
    config = current_app.extensions["cmdms.config"]
    url = config.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH
    if request.query_string:
        url += "?" + request.query_string.decode()
    signature = request.headers.get("X-Twilio-Signature", "")
    params = request.form.to_dict()
    valid = bool(engine.twilio_auth_token) and RequestValidator(engine.twilio_auth_token).validate(
        url, params, signature
    )
    if not valid:
        fail(403, "invalid_signature", "X-Twilio-Signature does not match this request.")
    sid, status = params.get("MessageSid"), params.get("MessageStatus")
    if not sid or not status:
        fail(400, "invalid_callback", "MessageSid and MessageStatus are required.", field="MessageSid")
    with unit_of_work() as uow:
        row = recipients.apply_twilio_status(uow.session, sid, status, params.get("ErrorCode"))
        if row is None:
            fail(404, "unknown_message", f"No notification was sent as {sid!r}.", field="MessageSid")
        result = {"notification_id": row.id, "status": row.status}
        uow.commit()
    return jsonify(result), 200


def _person() -> Any:
    principal = guards.current_principal()
    if principal.kind != "user" or principal.user_id is None:
        fail(403, "person_required", "OTPs are for people logged in, not for API keys.")
    return principal


@blp.route("/otp", methods=["POST"])
@guards.require("notifications:write", roles=STAFF_ROLES)
@blp.arguments(OtpCreate)
def issue_otp(args: dict[str, Any]) -> ResponseReturnValue:
    """Send the logged-in staff member an OTP for one purpose and object."""
    principal = _person()
    with unit_of_work() as uow:
        session = uow.session
        try:
            issued = otp.issue(
                session, user_id=principal.user_id, purpose=args["purpose"], object_key=args["object"]
            )
        except otp.OtpLimitReached as exc:
            uow.rollback()
            record(
                session, principal.actor, "otp_refused", "user", principal.name, None, {"reason": str(exc)}
            )
            uow.commit()
            fail(429, "otp_limit", str(exc), retry_after_seconds=exc.retry_after_seconds)
        uow.commit()
    return jsonify(
        {
            "otp_id": issued.otp_id,
            "expires_at": issued.expires_at.isoformat(),
            "notification_id": issued.notification_id,
        }
    ), 201


@blp.route("/otp/verify", methods=["POST"])
@guards.require("notifications:write", roles=STAFF_ROLES)
@blp.arguments(OtpVerify)
def verify_otp(args: dict[str, Any]) -> ResponseReturnValue:
    """Check a code; the attempt counts even when it is wrong."""
    principal = _person()
    with unit_of_work() as uow:
        result = otp.verify(
            uow.session,
            user_id=principal.user_id,
            purpose=args["purpose"],
            object_key=args["object"],
            code=args["code"],
        )
        uow.commit()
    if not result.ok:
        fail(
            403,
            f"otp_{result.reason}",
            f"OTP not accepted: {result.reason.replace('_', ' ')}.",
            reason=result.reason,
            attempts_left=result.attempts_left,
        )
    return jsonify({"verified": True, "reason": "ok"}), 200
