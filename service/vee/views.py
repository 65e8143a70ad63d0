"""Pages: rule insight for analysts, and the reading editor (view a meter-day, edit a value)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select, text
from werkzeug.wrappers import Response

from service.auth.principal import for_user
from service.auth.scoping import can_see
from service.auth.views import role_required
from service.extensions import db
from service.masterdata import Meter
from service.masterdata.cards import meter_card
from service.readings.totals import last_reads
from service.unit_of_work import unit_of_work
from service.vee import insight, range_edit
from service.vee import meter_page as meter_page_data
from service.vee.edits import EditError, edit_interval
from service.vee.models import VeeFailure
from service.vee.rerun import local_days, rerun_range
from service.web import lists
from service.web.times import IST, ist_day_bounds, ist_today
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


# The meter page ---------------------------------------------------------------------------
METER_ROLES = (*INSIGHT_ROLES, "ccc_agent", "control_centre")


def _local_input(raw: str | None) -> datetime | None:
    """An `<input type="datetime-local">` value, read as IST."""
    try:
        return datetime.fromisoformat((raw or "")[:16]).replace(tzinfo=IST).astimezone(UTC)
    except ValueError:
        return None


def _meter_range(meter_id: int) -> tuple[datetime, datetime]:
    start, end = _local_input(request.values.get("from")), _local_input(request.values.get("to"))
    if start and end and start < end <= start + range_edit.MAX_RANGE:
        return start, end
    try:  # a failure links to its IST day
        return ist_day_bounds(date.fromisoformat(request.values.get("day") or ""))
    except ValueError:
        pass
    latest = last_reads(db.session(), meter_id, datetime.now(UTC) - timedelta(days=400))["interval"]
    last = latest["interval_end"] if latest else datetime.now(UTC)
    day_start, day_end = ist_day_bounds((last - timedelta(seconds=1)).astimezone(IST).date())
    return day_start - timedelta(days=1), day_end


def _meter_or_404(serial: str) -> dict[str, Any]:
    card = meter_card(db.session(), for_user(current_user), serial)
    if card is None:
        abort(404)
    return card


@bp.get("/meters/<serial>", endpoint="meter")
@role_required(*METER_ROLES)
def meter_page(serial: str) -> str:
    session = db.session()
    card = _meter_or_404(serial)
    start, end = _meter_range(card["id"])
    rows = meter_page_data.intervals_with_originals(session, card["id"], start, end)
    replaced = [r for r in rows if r["quality"] in ("estimated", "edited")]
    return render_template(
        "vee/meter.html",
        m=card,
        start=start,
        end=end,
        rows=rows,
        replaced=replaced,
        figure=meter_page_data.figure_json(rows, f"{card['serial_number']} kWh per interval")
        if rows
        else None,
        reads=last_reads(session, card["id"], datetime.now(UTC) - timedelta(days=400)),
        events=meter_page_data.meter_events(session, card["id"], start, end),
        failures=meter_page_data.failures(session, card["id"], start, end),
        can_edit=current_user.role in (*EDIT_ROLES, "admin"),
        local=lambda ts: ts.astimezone(IST).strftime("%Y-%m-%dT%H:%M"),
    )


def _back_to_meter(serial: str, start: datetime | None, end: datetime | None) -> Response:
    args: dict[str, Any] = {}
    if start and end:
        args = {
            "from": start.astimezone(IST).strftime("%Y-%m-%dT%H:%M"),
            "to": end.astimezone(IST).strftime("%Y-%m-%dT%H:%M"),
        }
    return redirect(url_for("vee.meter", serial=serial, **args))


@bp.post("/meters/<serial>/edit")
@role_required(*EDIT_ROLES)
def meter_edit(serial: str) -> Response:
    session = db.session()
    card = _meter_or_404(serial)
    start, end = _local_input(request.form.get("from")), _local_input(request.form.get("to"))
    back = _back_to_meter(serial, start, end)
    if start is None or end is None:
        flash("Give the start and end of the range (IST).", "error")
        return back
    value = None
    if request.form.get("mode") == "value":
        try:
            value = float(request.form.get("value", ""))
        except ValueError:
            flash("Give the value in kWh for every interval of the range.", "error")
            return back
    with unit_of_work(session) as uow:
        try:
            done = range_edit.edit_range(
                session, for_user(current_user).actor, card["id"], "kwh", start, end,
                request.form.get("reason", "")[:500], value,
            )  # fmt: skip
        except EditError as exc:
            flash(exc.message, "error")
            return back
        uow.commit()
    how = "set to the value given" if done.mode == "value" else "estimated by interpolation"
    flash(f"{done.intervals} interval(s) {how} and re-validated.", "ok")
    return back


@bp.post("/meters/<serial>/rerun")
@role_required(*EDIT_ROLES)
def meter_rerun(serial: str) -> Response:
    session = db.session()
    _meter_or_404(serial)
    start, end = _local_input(request.form.get("from")), _local_input(request.form.get("to"))
    back = _back_to_meter(serial, start, end)
    if start is None or end is None:
        flash("Give the start and end of the range (IST).", "error")
        return back
    first = start.astimezone(IST).date()
    last = (end - timedelta(seconds=1)).astimezone(IST).date()
    with unit_of_work(session) as uow:
        try:
            summary = rerun_range(session, for_user(current_user).actor, [serial], first, last)
        except ValueError as exc:
            flash(str(exc), "error")
            return back
        uow.commit()
    flash(f"VEE re-run on {first:%d %b}–{last:%d %b}: {summary.as_dict()}", "ok")
    return back
