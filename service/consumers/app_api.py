"""The consumer app's REST API under /api/v1/consumer: sign-in by IVRS number and an OTP to the
registered mobile, then a bearer token that reaches only its own consumer's data.

Another consumer's IVRS number in a path is answered 404 `unknown_consumer`, exactly as an IVRS
number that does not exist, as the staff API answers a consumer outside the caller's area.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint

from service.api_errors import fail
from service.consumers import app_account, app_auth, app_data, app_limits
from service.consumers.schemas import AppDeviceCreate, AppPageQuery, OtpRequest, SignIn
from service.consumers.views import now_utc
from service.notifications import OtpLimitReached
from service.queues import redis_conn
from service.unit_of_work import unit_of_work

blp = Blueprint("consumer_app_api", __name__, url_prefix="/api/v1/consumer", description="The consumer app")
F = TypeVar("F", bound=Callable[..., Any])


def _limits() -> app_limits.Limits:
    found: app_limits.Limits = current_app.extensions[app_limits.EXTENSION_KEY]
    return found


def _limit(key: str, limit: int) -> None:
    limits = _limits()
    retry = app_limits.over_limit(redis_conn(), key, limit, limits.window_seconds, now_utc().timestamp())
    if retry is not None:
        fail(429, "rate_limited", f"Too many requests; retry in {retry} s.", retry_after_seconds=retry)


@blp.before_request
def _per_address() -> None:
    address = request.remote_addr or "unknown"
    limits = _limits()
    if request.endpoint in (f"{blp.name}.request_otp", f"{blp.name}.create_session"):
        _limit(f"sign-in:{address}", limits.sign_in_per_address)
    else:
        _limit(f"address:{address}", limits.per_address)


def _answer(key: str, compute: Callable[[], dict[str, Any]]) -> ResponseReturnValue:
    """The cached answer for `key` (per consumer, endpoint and local day), else computed and kept."""
    redis = redis_conn()
    body = app_limits.cached(redis, key)
    state = "hit"
    if body is None:
        body, state = compute(), "miss"
        app_limits.keep(redis, key, body, _limits().cache_seconds)
    response = jsonify(body)
    response.headers["X-Cache"] = state
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


def _secret_key() -> str:
    return str(current_app.config["SECRET_KEY"])


def holder() -> app_auth.TokenHolder:
    found: app_auth.TokenHolder = g.consumer_app_holder
    return found


def signed_in(view: F) -> F:
    """A valid consumer app token; the path's IVRS number, if any, must be the token's own."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization")
        if header is None:
            fail(401, "missing_credentials", "Sign in and send 'Authorization: Bearer <token>'.")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            fail(401, "invalid_authorization", "Use 'Authorization: Bearer <token>'.")
        with unit_of_work() as uow:
            found = app_auth.holder_of(uow.session, raw.strip(), now_utc())
        if found is None:
            fail(401, "invalid_token", "The token is unknown, expired or signed out; sign in again.")
        _limit(f"token:{found.token_id}", _limits().per_token)
        ivrs = kwargs.get("ivrs")
        if ivrs is not None and ivrs != found.consumer.ivrs_number:
            fail(404, "unknown_consumer", f"No consumer {str(ivrs)[:32]!r}.")
        g.consumer_app_holder = found
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@blp.route("/otp", methods=["POST"])
@blp.arguments(OtpRequest)
def request_otp(args: dict[str, Any]) -> ResponseReturnValue:
    """Send a sign-in code to the registered mobile of the IVRS number.

    The answer is the same whether or not the number exists or has a mobile, so the endpoint
    cannot be used to find consumers."""
    now = now_utc()
    try:
        with unit_of_work() as uow:
            app_auth.request_otp(uow.session, args["ivrs"], now, _secret_key())
            uow.commit()
    except OtpLimitReached as exc:
        fail(429, "otp_limit", str(exc), retry_after_seconds=exc.retry_after_seconds)
    minutes = int(app_auth.OTP_VALIDITY.total_seconds() // 60)
    body = {
        "status": "sent_if_registered",
        "message": "If the IVRS number is registered with a mobile, a code was sent to it.",
        "valid_minutes": minutes,
    }
    return jsonify(body), 202


@blp.route("/sessions", methods=["POST"])
@blp.arguments(SignIn)
def create_session(args: dict[str, Any]) -> ResponseReturnValue:
    """Exchange the code for a bearer token valid one hour (the attempt counts when wrong)."""
    with unit_of_work() as uow:
        result, signed = app_auth.sign_in(
            uow.session, args["ivrs"], args["otp"].strip(), now_utc(), _secret_key()
        )
        uow.commit()
    if signed is None:
        fail(401, f"otp_{result.reason}", f"Code not accepted: {result.reason.replace('_', ' ')}.",
             reason=result.reason, attempts_left=result.attempts_left)  # fmt: skip
    body = {
        "token": signed.token,
        "token_type": "Bearer",
        "expires_at": signed.expires_at.isoformat(),
        "expires_in": int(app_auth.TOKEN_VALIDITY.total_seconds()),
        "ivrs": signed.consumer.ivrs_number,
    }
    return jsonify(body), 201


@blp.route("/sessions/current", methods=["DELETE"])
@signed_in
def delete_session() -> ResponseReturnValue:
    """Sign out: the token stops working at once."""
    with unit_of_work() as uow:
        app_auth.sign_out(uow.session, holder(), now_utc())
        uow.commit()
    return "", 204


@blp.route("/me", methods=["GET"])
@signed_in
def me() -> ResponseReturnValue:
    """The signed-in consumer (the mobile masked but for its last four digits)."""
    c = holder().consumer
    mobile = c.mobile or ""
    return jsonify(
        {
            "ivrs": c.ivrs_number,
            "name": c.name,
            "mobile": ("*" * max(0, len(mobile) - 4) + mobile[-4:]) if mobile else None,
            "language": c.language,
            "tariff_category": c.tariff_category,
            "token_expires_at": holder().expires_at.isoformat(),
        }
    )


def _today() -> Any:
    return app_data.local_today(now_utc())


@blp.route("/<ivrs>/consumption", methods=["GET"])
@signed_in
def consumption_now(ivrs: str) -> ResponseReturnValue:
    """kWh and cost today, this week (from Monday), this month and this year, up to now."""
    c, today = holder().consumer, _today()

    def compute() -> dict[str, Any]:
        with unit_of_work() as uow:
            return {"ivrs": c.ivrs_number, **app_data.current(uow.session, c.id, c.tariff_category, today)}

    return _answer(f"{c.id}:now:{today.isoformat()}", compute)


@blp.route("/<ivrs>/reports/<name>", methods=["GET"])
@signed_in
def consumption_report(ivrs: str, name: str) -> ResponseReturnValue:
    """last_7_days (daily), last_4_weeks (weekly), last_6_months or last_2_years (monthly)."""
    if name not in app_data.REPORT_NAMES:
        fail(404, "unknown_report", f"No report {name[:40]!r}; one of {', '.join(app_data.REPORT_NAMES)}.")
    c, today = holder().consumer, _today()

    def compute() -> dict[str, Any]:
        with unit_of_work() as uow:
            body = app_data.report(uow.session, c.id, c.tariff_category, name, today)
        return {"ivrs": c.ivrs_number, **body}

    return _answer(f"{c.id}:{name}:{today.isoformat()}", compute)


@blp.route("/<ivrs>/devices", methods=["POST"])
@signed_in
@blp.arguments(AppDeviceCreate)
def add_device(args: dict[str, Any], ivrs: str) -> ResponseReturnValue:
    """Register the app's push token (FCM) for this consumer; the same token again is the same device."""
    c = holder().consumer
    with unit_of_work() as uow:
        device_id = app_account.add_device(uow.session, c.id, c.ivrs_number, args["token"], args["platform"])
        uow.commit()
    return jsonify({"device_id": device_id}), 201


@blp.route("/<ivrs>/notifications", methods=["GET"])
@signed_in
@blp.arguments(AppPageQuery, location="query")
def my_notifications(args: dict[str, Any], ivrs: str) -> ResponseReturnValue:
    """Messages sent to this consumer, newest first, with the total (sign-in codes left out)."""
    with unit_of_work() as uow:
        return jsonify(
            app_account.notifications(uow.session, holder().consumer.id, args["limit"], args["offset"])
        )


@blp.route("/<ivrs>/prepaid", methods=["GET"])
@signed_in
@blp.arguments(AppPageQuery, location="query")
def my_prepaid(args: dict[str, Any], ivrs: str) -> ResponseReturnValue:
    """Prepaid balance and ledger; {"prepaid": false} for a postpaid consumer."""
    with unit_of_work() as uow:
        body = app_account.prepaid(
            uow.session, holder().consumer.id, now_utc(), args["limit"], args["offset"]
        )
    return jsonify(body)


@blp.route("/<ivrs>/outages", methods=["GET"])
@signed_in
def my_outages(ivrs: str) -> ResponseReturnValue:
    """Current outages on the consumer's DT, feeder or meter, then planned ones not yet over."""
    with unit_of_work() as uow:
        return jsonify(app_account.outages(uow.session, holder().consumer.id, now_utc()))
