"""Pages: rule insight for analysts, and the reading editor (view a meter-day, edit a value)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select, text
from werkzeug.wrappers import Response

from service.auth.principal import for_user
from service.auth.scoping import can_see
from service.auth.views import role_required
from service.extensions import db
from service.masterdata.models import Meter
from service.unit_of_work import unit_of_work
from service.vee import insight
from service.vee.edits import EditError, edit_interval
from service.vee.models import VeeFailure
from service.vee.rerun import local_days
from service.web import lists
from service.web.times import ist_today
from service.web.views import list_export

bp = Blueprint("vee", __name__, template_folder="templates")
INSIGHT_ROLES = ("analyst", "viewer", "field_officer")
DAY_WINDOWS = (7, 30, 90, 366)
EDIT_ROLES = ("analyst", "field_officer")


@bp.get("/vee/rules")
@role_required(*INSIGHT_ROLES)
def rules() -> str:
    raw = request.args.get("days", "30")
    days = min(int(raw), 366) if raw.isdigit() and int(raw) > 0 else 30
    session = db.session()
    rows = insight.rules_with_hits(session, for_user(current_user), days)
    refused = insight.refused_files(session)
    today = ist_today(datetime.now(UTC))
    window = [today - timedelta(days=n) for n in range(days - 1, -1, -1)]
    return render_template(
        "vee/rules.html", rules=rows, days=days, refused=refused, window=window, windows=DAY_WINDOWS
    )


FAILURES = lists.ListSpec(
    name="failures",
    sorts={
        "ts": (VeeFailure.ts, True),
        "meter": (Meter.serial_number, False),
        "value": (VeeFailure.value_seen, True),
    },
    default_sort="ts",
    tiebreak=VeeFailure.id,
    columns=(
        lists.Column("Meter", lambda r: r[1]),
        lists.Column("Time (IST)", lambda r: r[0].ts),
        lists.Column("Until (IST)", lambda r: r[0].ts_end),
        lists.Column("Value seen", lambda r: r[0].value_seen),
        lists.Column("Reference", lambda r: r[0].reference_value),
        lists.Column("Severity", lambda r: r[0].severity),
        lists.Column("Details", lambda r: r[0].details),
    ),
    filters={"meter": "Meter"},
    rows="rows",
)


@bp.get("/vee/rules/<rule_id>")
@role_required(*INSIGHT_ROLES)
def rule(rule_id: str) -> Any:
    session = db.session()
    stmt = insight.failures_query(for_user(current_user), rule_id[:100])
    serial = (request.args.get("meter") or "").strip()[:40]
    if serial:
        stmt = stmt.where(Meter.serial_number == serial)
    if request.args.get("export"):
        return list_export(FAILURES, stmt)
    lp = lists.read_page(session, FAILURES, stmt, request.args, url_for("vee.rule", rule_id=rule_id))
    return render_template("vee/rule.html", rule_id=rule_id, lp=lp)


def _meter_day(serial: str, day: date) -> tuple[Meter | None, Sequence[Any]]:
    session = db.session()
    meter = session.scalar(select(Meter).where(Meter.serial_number == serial))
    if meter is None or not can_see(session, for_user(current_user), meter.org_unit_id):
        return None, []
    start, end = local_days(day, day)
    rows = session.execute(
        text(
            "SELECT r.interval_end, r.value, r.quality, e.method FROM interval_readings r"
            " LEFT JOIN vee_estimates e ON e.meter_id = r.meter_id AND e.channel = r.channel AND e.ts = r.interval_end"
            " WHERE r.meter_id = :m AND r.channel = 'kwh' AND r.interval_end > :a AND r.interval_end <= :b"
            " ORDER BY r.interval_end"
        ),
        {"m": meter.id, "a": start, "b": end},
    ).all()
    return meter, rows


@bp.route("/vee/readings", methods=["GET", "POST"])
@role_required(*EDIT_ROLES)
def readings() -> Any:
    serial = (request.values.get("meter") or "").strip()[:40]
    try:
        day = date.fromisoformat(request.values.get("day") or "")
    except ValueError:
        day = None
    if request.method == "POST" and day is not None:
        return _post_edit(serial, day)
    meter, rows = _meter_day(serial, day) if serial and day else (None, [])
    if serial and day and meter is None:
        flash(f"Unknown meter {serial}.", "error")
    return render_template("vee/readings.html", serial=serial, day=day, meter=meter, rows=rows)


def _post_edit(serial: str, day: date) -> Response:
    session = db.session()
    meter, _ = _meter_day(serial, day)
    back = redirect(url_for("vee.readings", meter=serial, day=day.isoformat()))
    try:
        value = float(request.form.get("value", ""))
        ts = datetime.fromisoformat(request.form.get("interval_end", ""))
    except ValueError:
        flash("Give a number and a valid interval.", "error")
        return back
    if meter is None:
        flash(f"Unknown meter {serial}.", "error")
        return back
    with unit_of_work(session) as uow:
        try:
            edit_interval(
                session,
                for_user(current_user).actor,
                meter.id,
                "kwh",
                ts,
                value,
                request.form.get("reason", ""),
            )
        except EditError as exc:
            flash(exc.message, "error")
            return back
        uow.commit()
    flash("Reading edited and re-validated.", "ok")
    return back
