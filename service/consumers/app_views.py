"""The consumer's own pages (phone-first, English or Hindi) at /app: sign in with the IVRS number
and the SMS code, consumption now, and the four reports as bar charts with a table under each.

The page session holds the same one-hour token the app API issues (`app_auth`), so the pages
and the API share one sign-in, one expiry and one sign-out.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from service.consumers import app_auth, app_data
from service.consumers.schemas import IVRS
from service.consumers.views import now_utc
from service.notifications import OtpLimitReached
from service.unit_of_work import unit_of_work

bp = Blueprint("consumer_app", __name__, template_folder="templates", url_prefix="/app")

TOKEN_KEY, IVRS_KEY, LANGUAGE_KEY = "consumer_app_token", "consumer_app_ivrs", "consumer_app_language"
LANGUAGES = ("en", "hi")


def report_titles() -> dict[str, str]:
    return {
        "last_7_days": _("Last 7 days"),
        "last_4_weeks": _("Last 4 weeks"),
        "last_6_months": _("Last 6 months"),
        "last_2_years": _("Last 2 years"),
    }


def _refusal(reason: str) -> str:
    return {
        "wrong": _("The code is wrong."),
        "expired": _("The code has expired; ask for a new one."),
        "attempts_exhausted": _("Too many wrong codes; ask for a new one."),
        "used": _("This code was already used; ask for a new one."),
    }.get(reason, _("No code was sent for this IVRS number; ask for one."))


def _holder() -> app_auth.TokenHolder | None:
    raw = session.get(TOKEN_KEY)
    if not isinstance(raw, str):
        return None
    with unit_of_work() as uow:
        return app_auth.holder_of(uow.session, raw, now_utc())


def _language(holder: app_auth.TokenHolder | None) -> str:
    chosen = session.get(LANGUAGE_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    if holder is not None and holder.consumer.language in LANGUAGES:
        return holder.consumer.language
    return request.accept_languages.best_match(LANGUAGES) or "en"


@bp.before_request
def _reader() -> None:
    # Before any string is translated: the web area's locale selector reads g.page_language.
    g.app_holder = _holder()
    g.page_language = _language(g.app_holder)


def _render(template: str, **context: Any) -> str:
    return render_template(
        f"consumers/app/{template}", holder=g.app_holder, language=g.page_language, **context
    )


@bp.get("", endpoint="home")
def home() -> Any:
    holder: app_auth.TokenHolder | None = g.app_holder
    if holder is None:
        return redirect(url_for("consumer_app.sign_in"))
    c = holder.consumer
    with unit_of_work() as uow:
        now = app_data.current(uow.session, c.id, c.tariff_category, app_data.local_today(now_utc()))
    labels = {"today": _("Today"), "week": _("This week"), "month": _("This month"), "year": _("This year")}
    return _render("home.html", now=now, labels=labels, titles=report_titles())


@bp.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
def sign_in() -> Any:
    if request.method == "GET":
        return _render("sign_in.html", ivrs=session.get(IVRS_KEY, ""))
    ivrs = request.form.get("ivrs", "").strip()[:64]
    try:
        IVRS(ivrs)  # the API's rule
    except ValidationError:
        flash(_("Enter a valid IVRS number."), "error")
        return _render("sign_in.html", ivrs=""), 422
    try:
        with unit_of_work() as uow:
            app_auth.request_otp(uow.session, ivrs, now_utc(), _secret_key())
            uow.commit()
    except OtpLimitReached as exc:
        minutes = max(1, (exc.retry_after_seconds + 59) // 60)
        flash(_("Too many codes asked for; try again in %(minutes)s minutes.", minutes=minutes), "error")
        return _render("sign_in.html", ivrs=ivrs), 429
    session[IVRS_KEY] = ivrs
    flash(_("If the IVRS number is registered with a mobile, a code was sent to it."), "info")
    return redirect(url_for("consumer_app.code"))


@bp.route("/sign-in/code", methods=["GET", "POST"], endpoint="code")
def code() -> Any:
    ivrs = session.get(IVRS_KEY)
    if not isinstance(ivrs, str):
        return redirect(url_for("consumer_app.sign_in"))
    if request.method == "GET":
        return _render("code.html", ivrs=ivrs)
    given = request.form.get("otp", "").strip()
    if not (len(given) == 6 and given.isdigit()):
        flash(_("Enter the six digits of the code."), "error")
        return _render("code.html", ivrs=ivrs), 422
    with unit_of_work() as uow:
        result, signed = app_auth.sign_in(uow.session, ivrs, given, now_utc(), _secret_key())
        uow.commit()
    if signed is None:
        flash(_refusal(result.reason), "error")
        return _render("code.html", ivrs=ivrs), 401
    session.pop(IVRS_KEY, None)
    session[TOKEN_KEY] = signed.token
    return redirect(url_for("consumer_app.home"))


@bp.get("/reports/<name>", endpoint="report")
def report(name: str) -> Any:
    holder: app_auth.TokenHolder | None = g.app_holder
    if holder is None:
        return redirect(url_for("consumer_app.sign_in"))
    titles = report_titles()
    if name not in titles:
        abort(404)
    c, language = holder.consumer, g.page_language
    with unit_of_work() as uow:
        body = app_data.report(
            uow.session, c.id, c.tariff_category, name, app_data.local_today(now_utc()), language
        )
    figure = app_data.figure(body, titles[name], _("Units (kWh)"), _("Cost"))
    # "</" cannot end the <script type="application/json"> block the page embeds it in.
    figure_json = json.dumps(figure).replace("</", "<\\/")
    return _render("report.html", name=name, title=titles[name], titles=titles, r=body,
                   figure=figure_json)  # fmt: skip


@bp.post("/sign-out", endpoint="sign_out")
def sign_out() -> Response:
    holder: app_auth.TokenHolder | None = g.app_holder
    if holder is not None:
        with unit_of_work() as uow:
            app_auth.sign_out(uow.session, holder, now_utc())
            uow.commit()
    session.pop(TOKEN_KEY, None)
    return redirect(url_for("consumer_app.sign_in"))


@bp.post("/language", endpoint="language")
def language() -> Response:
    chosen = request.form.get("language", "")
    if chosen in LANGUAGES:
        session[LANGUAGE_KEY] = chosen
    back = request.form.get("next", "")
    # Only a page of this app: never an address from outside.
    target = back if back.startswith("/app") and not back.startswith("//") else url_for("consumer_app.home")
    return redirect(target)


def _secret_key() -> str:
    return str(current_app.config["SECRET_KEY"])


@bp.app_template_filter("dec")
def _decimal(value: str | None) -> Decimal | None:
    """The API's decimal strings back to Decimal for `|num` (money is never a float)."""
    return None if value is None else Decimal(value)
