"""Pages of a DO-list part: the division officer's verification (filter, select, drop with a
reason, approve) and the control-centre authority's OTP confirmation. Phone-sized first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from service.auth.principal import Principal, for_user
from service.auth.views import role_required
from service.disconnections import flow, verification
from service.disconnections.flow import StepRefused
from service.disconnections.models import ListPart
from service.extensions import db
from service.masterdata.supply import org_unit_codes
from service.notifications import otp
from service.unit_of_work import unit_of_work
from service.web import lists
from service.web.views import list_export

bp = Blueprint("disconnections", __name__, template_folder="templates", static_folder="static",
               static_url_path="/disconnections-static")  # fmt: skip
MAX_DROP = 20_000  # one drop request (one transaction) changes at most this many orders


def _principal() -> Principal:
    return for_user(current_user)


def _now() -> datetime:
    return datetime.now(UTC)


def _part(part_id: int) -> ListPart:
    try:
        return flow.part_for(db.session(), _principal(), part_id)
    except StepRefused:
        abort(404)  # another division's part is not shown to exist


def _back(part_id: int, query: str = "") -> Response:
    url = url_for("disconnections.part", part_id=part_id)
    return redirect(url + ("?" + query if query else ""))


@bp.get("/disconnections/parts/<int:part_id>")
@role_required("field_officer", "control_centre")
def part(part_id: int) -> Any:
    """The part's consumers with filters, selection, drop with a reason and the running totals."""
    session = db.session()
    found = _part(part_id)
    f = verification.OrderFilter.from_args(request.args)
    stmt = verification.orders(found, f)
    spec = verification.spec()
    if request.args.get("export"):
        return list_export(spec, stmt)
    lp = lists.read_page(session, spec, stmt, request.args, url_for("disconnections.part", part_id=part_id))
    return render_template(
        "disconnections/part.html",
        part=found,
        lp=lp,
        f=f,
        division=org_unit_codes(session, [found.division_id]).get(found.division_id, ""),
        overall=verification.totals(session, verification.orders(found, verification.OrderFilter())),
        matching=verification.totals(session, stmt),
        choices=verification.choices(session, found),
        bands=verification.ARREARS_BANDS,
        query=lp.query[:1000],
    )


@bp.post("/disconnections/parts/<int:part_id>/drop")
@role_required("field_officer")
def drop(part_id: int) -> Response:
    session = db.session()
    query = request.form.get("query", "")[:1000]
    reason = request.form.get("reason", "")
    if request.form.get("all_matching"):
        found = _part(part_id)
        stmt = verification.orders(found, verification.OrderFilter.from_args(dict(parse_qsl(query))))
        ids = verification.matching_pending_ids(session, stmt, MAX_DROP)
        expected = request.form.get("expected", type=int)
        if len(ids) > MAX_DROP:
            flash(_("More than %(n)s consumers match; narrow the filter.", n=MAX_DROP), "error")
            return _back(part_id, query)
        if expected != len(ids):
            flash(
                _("The list changed: %(n)s consumers match now. Check and drop again.", n=len(ids)), "error"
            )
            return _back(part_id, query)
    else:
        ids = [int(v) for v in request.form.getlist("order") if v.isdigit()][:MAX_DROP]
    if not ids:
        flash(_("Select the consumers to drop."), "error")
        return _back(part_id, query)
    with unit_of_work(session) as uow:
        try:
            dropped = flow.drop(session, _principal(), part_id, ids, reason)
        except StepRefused as exc:
            if exc.status == 404:
                abort(404)
            flash(str(exc), "error")
            return _back(part_id, query)
        uow.commit()
    flash(_("%(n)s consumer(s) dropped from the list.", n=len(dropped)), "info")
    return _back(part_id, query)


@bp.post("/disconnections/parts/<int:part_id>/approve")
@role_required("field_officer")
def approve(part_id: int) -> Response:
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            flow.approve(session, _principal(), part_id, request.form.get("remarks", ""), _now())
        except StepRefused as exc:
            if exc.status == 404:
                abort(404)
            flash(str(exc), "error")
            return _back(part_id)
        uow.commit()
    flash(_("List approved: it goes to the control centre for the OTP."), "info")
    return _back(part_id)


# The authority's OTP step ---------------------------------------------------------------------
def _otp_page(found: ListPart, status: int = 200) -> Any:
    session = db.session()
    principal = _principal()
    state = None
    if principal.user_id is not None:
        state = otp.latest(session, user_id=principal.user_id, purpose=flow.OTP_PURPOSE,
                           object_key=str(found.id), now=_now())  # fmt: skip
    page = render_template(
        "disconnections/confirm.html",
        part=found,
        otp=state,
        division=org_unit_codes(session, [found.division_id]).get(found.division_id, ""),
        overall=verification.totals(session, verification.orders(found, verification.OrderFilter())),
    )
    return page, status


@bp.get("/disconnections/parts/<int:part_id>/confirm")
@role_required("control_centre")
def confirm_page(part_id: int) -> Any:
    return _otp_page(_part(part_id))


@bp.post("/disconnections/parts/<int:part_id>/otp")
@role_required("control_centre")
def send_otp(part_id: int) -> Any:
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            issued = flow.send_otp(session, _principal(), part_id, _now())
        except StepRefused as exc:
            if exc.status == 404:
                abort(404)
            flash(str(exc), "error")
            return redirect(url_for("disconnections.confirm_page", part_id=part_id))
        except otp.OtpLimitReached as exc:
            flash(str(exc), "error")
            return redirect(url_for("disconnections.confirm_page", part_id=part_id))
        uow.commit()
    del issued
    flash(_("An OTP was sent to your mobile."), "info")
    return redirect(url_for("disconnections.confirm_page", part_id=part_id))


@bp.post("/disconnections/parts/<int:part_id>/confirm")
@role_required("control_centre")
def confirm(part_id: int) -> Any:
    session = db.session()
    code = request.form.get("otp", "").strip()[:12]
    with unit_of_work(session) as uow:
        try:
            result = flow.confirm(session, _principal(), part_id, code, _now())
        except StepRefused as exc:
            if exc.status == 404:
                abort(404)
            flash(str(exc), "error")
            return redirect(url_for("disconnections.confirm_page", part_id=part_id))
        uow.commit()  # a wrong code counts: the attempt is kept
    if result.ok:
        flash(_("Confirmed: the commands go to the HES."), "info")
        return redirect(url_for("disconnections.confirm_page", part_id=part_id))
    if result.reason == "attempts_exhausted" or result.attempts_left == 0:
        flash(_("Three wrong codes: this OTP is locked. Request a new OTP."), "error")
    elif result.reason == "expired":
        flash(_("The OTP has expired. Request a new OTP."), "error")
    elif result.reason in ("not_found", "used", "wrong_purpose"):
        flash(_("No OTP for this list is active. Request a new OTP."), "error")
    else:
        flash(_("The OTP does not match; %(n)s attempt(s) left.", n=result.attempts_left), "error")
    return _otp_page(_part(part_id), 422)
