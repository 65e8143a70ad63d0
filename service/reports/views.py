"""Report pages: the list, each declared report (parameters form, chart, table, pages with the
total, downloads), run-now and schedule forms, and the kept runs for download."""

from __future__ import annotations

import gzip
from functools import partial
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import text

from service.auth.principal import Principal, for_user
from service.auth.views import role_required
from service.extensions import db
from service.reports import charts, export, jobs, registry, running, runs
from service.unit_of_work import after_commit, unit_of_work

bp = Blueprint("reports", __name__, template_folder="templates", static_folder="static",
               static_url_path="/reports/static")  # fmt: skip
REPORT_ROLES = ("analyst", "viewer", "field_officer", "control_centre")
PAGE_SIZE = 50


def _principal() -> Principal:
    return for_user(current_user)


def _report(name: str) -> registry.Report:
    report = registry.get(name)
    if report is None:
        abort(404)
    return report


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 1_000_000))
    except ValueError:
        return 1


def _org_units(principal: Principal) -> list[Any]:
    """Org units the form offers: the person's own and everything below it, down to divisions."""
    root = "/" if principal.org_unit_id is None else None
    session = db.session()
    if root is None:
        root = session.scalar(
            text("SELECT path FROM org_units WHERE id = :id"), {"id": principal.org_unit_id}
        )
    return list(
        session.execute(
            text(
                "SELECT code, name, level FROM org_units WHERE path LIKE :p || '%'"
                " AND level IN ('discom', 'region', 'circle', 'division') ORDER BY path"
            ),
            {"p": root},
        )
    )


@bp.get("/reports")
@role_required(*REPORT_ROLES)
def index() -> str:
    return render_template("reports/index.html", groups=registry.by_source())


@bp.get("/reports/assets/plotly.min.js")
def plotly_js() -> Response:
    response = send_file(charts.plotly_js_path(), mimetype="text/javascript", max_age=86_400)
    return response


def _resolved(report: registry.Report, principal: Principal) -> running.Resolved | None:
    try:
        return running.resolve(db.session(), report, request.args, principal, running.today_ist())
    except running.ParameterError as exc:
        for name, error in exc.errors.items():
            flash(f"{name}: {error}", "error")
        return None


@bp.get("/reports/<name>")
@role_required(*REPORT_ROLES)
def show(name: str) -> str:
    report = _report(name)
    principal = _principal()
    resolved = _resolved(report, principal)
    result: dict[str, Any] = {"items": [], "total": 0, "page": 1, "pages": 1}
    figure = None
    if resolved is not None:
        session = db.session()
        result = running.page(
            session, report, resolved, principal, _page_number(request.args.get("page")), PAGE_SIZE
        )
        figure = charts.figure_json(report, running.chart_rows(session, report, resolved, principal))
    values = resolved.values if resolved else {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "reports/show.html",
        report=report,
        values=values,
        org_units=_org_units(principal),
        figure=figure,
        display=running.display,
        **result,
    )


# Two rules, one view: a rule ending in the file's extension is a download, not a page.
@bp.get("/reports/<name>.csv", defaults={"ext": "csv"})
@bp.get("/reports/<name>.xlsx", defaults={"ext": "xlsx"})
@role_required(*REPORT_ROLES)
def download(name: str, ext: str) -> ResponseReturnValue:
    """Every row of the report for these parameters: CSV streamed, XLSX written write-only."""
    report = _report(name)
    principal = _principal()
    resolved = _resolved(report, principal)
    if resolved is None:
        return _back(name, request.args.to_dict())
    rows = running.stream(db.session(), report, resolved, principal)
    filename = _filename(report, resolved, ext)
    if ext == "csv":
        return send_file(export.csv_file(report, rows), mimetype=export.CSV_MIME, as_attachment=True,
                         download_name=filename)  # fmt: skip
    title = f"{report.title_en} · " + ", ".join(f"{k} {v}" for k, v in resolved.values.items() if v)
    out = export.xlsx_file(report, rows, title)
    return send_file(out, mimetype=export.XLSX_MIME, as_attachment=True, download_name=filename)


def _back(name: str, values: dict[str, str]) -> ResponseReturnValue:
    params: dict[str, Any] = dict(values)
    return redirect(url_for("reports.show", name=name, **params))


def _filename(report: registry.Report, resolved: running.Resolved, ext: str) -> str:
    parts = [report.name, *[v for v in resolved.values.values() if v]]
    return "-".join("".join(ch for ch in p if ch.isalnum() or ch in "-_") for p in parts) + "." + ext


@bp.post("/reports/<name>/runs")
@role_required(*REPORT_ROLES)
def run_now(name: str) -> ResponseReturnValue:
    report = _report(name)
    principal = _principal()
    with unit_of_work() as uow:
        try:
            resolved = running.resolve(uow.session, report, request.form, principal, running.today_ist())
        except running.ParameterError as exc:
            flash(str(exc), "error")
            return redirect(url_for("reports.show", name=name))
        run_id = runs.request_run(uow.session, principal, report, resolved.values)
        # Redis down: the run stays queued and the schedules sweep (schedules_due) queues it.
        after_commit(uow.session, partial(jobs.enqueue_run, run_id), group="redis")
        uow.commit()
    flash(f"Run {run_id} queued; it appears under Report runs when ready.", "info")
    return redirect(url_for("reports.run_list"))


@bp.post("/reports/<name>/schedules")
@role_required(*REPORT_ROLES)
def schedule(name: str) -> ResponseReturnValue:
    report = _report(name)
    principal = _principal()
    with unit_of_work() as uow:
        try:
            resolved = running.resolve(uow.session, report, request.form, principal, running.today_ist())
            schedule_id = runs.create_schedule(uow.session, principal, report, resolved.values,
                                               request.form.get("frequency", ""))  # fmt: skip
        except running.ParameterError as exc:
            uow.rollback()
            flash(str(exc), "error")
            return redirect(url_for("reports.show", name=name))
        uow.commit()
    flash(f"Schedule {schedule_id} saved ({request.form.get('frequency')}).", "info")
    return _back(name, resolved.values)


@bp.get("/reports/runs")
@role_required(*REPORT_ROLES)
def run_list() -> str:
    page_no = _page_number(request.args.get("page"))
    result = runs.visible_runs(db.session(), _principal(), page_no, PAGE_SIZE)
    return render_template("reports/runs.html", page=page_no, registry=registry, **result)


@bp.get("/reports/runs/<int:run_id>.csv")
@role_required(*REPORT_ROLES)
def run_download(run_id: int) -> Response:
    run = runs.visible_run(db.session(), _principal(), run_id)
    if run is None or run.csv_gzip is None:
        abort(404)
    return Response(
        gzip.decompress(run.csv_gzip),
        mimetype=export.CSV_MIME,
        headers={"Content-Disposition": f'attachment; filename="{run.report}-run-{run.id}.csv"'},
    )
