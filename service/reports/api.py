"""Reports API: the declared reports and each one's rows (JSON, paged) or its CSV/XLSX."""

from __future__ import annotations

from typing import Any

from flask import send_file
from flask_smorest import Blueprint

from service.api_errors import fail
from service.auth.guards import current_principal, require
from service.extensions import db
from service.reports import export, registry, running
from service.reports.schemas import ReportQuery, ReportRead, ReportResult

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1", description="MIS reports, energy audit, AT&C")


def describe(r: registry.Report) -> dict[str, Any]:
    return {
        "name": r.name,
        "title_en": r.title_en,
        "title_hi": r.title_hi,
        "source": r.source,
        "description": r.description,
        "params": [
            {"name": p.name, "label": p.label, "kind": p.kind, "choices": list(p.choices)} for p in r.params
        ],
        "columns": [{"key": c.key, "title": c.title, "unit": c.unit, "kind": c.kind} for c in r.columns],
    }


@bp.route("/reports", methods=["GET"])
@require("reports:read")
@bp.response(200, ReportRead(many=True))
def list_reports() -> Any:
    """Every declared report with its parameters and columns."""
    return [describe(r) for r in registry.REPORTS.values()]


@bp.route("/reports/<name>", methods=["GET"])
@require("reports:read")
@bp.arguments(ReportQuery, location="query")
@bp.response(200, ReportResult)
@bp.alt_response(200, description="format=csv or format=xlsx: the whole result as a file",
                 content_type="text/csv", success=True)  # fmt: skip
def run_report(args: dict[str, Any], name: str) -> Any:
    """A report's rows, scoped to the caller's org unit: a page as JSON, or every row as CSV/XLSX."""
    report = registry.get(name)
    if report is None:
        fail(404, "unknown_report", f"No report {name!r}.", field="name")
    principal = current_principal()
    session = db.session()
    try:
        resolved = running.resolve(session, report, args, principal, running.today_ist())
    except running.ParameterError as exc:
        field = next(iter(exc.errors))
        fail(422, "invalid_parameter", str(exc), field=field, errors=exc.errors)
    fmt = args["format"]
    if fmt == "csv":
        out = export.csv_file(report, running.stream(session, report, resolved, principal))
        return send_file(out, mimetype=export.CSV_MIME, as_attachment=True, download_name=f"{name}.csv")
    if fmt == "xlsx":
        out = export.xlsx_file(report, running.stream(session, report, resolved, principal), report.title_en)
        return send_file(out, mimetype=export.XLSX_MIME, as_attachment=True, download_name=f"{name}.xlsx")
    result = running.page(session, report, resolved, principal, args["page"], args["page_size"])
    result["items"] = [
        {c.key: _json(running.shown(c, row.get(c.key))) for c in report.columns} for row in result["items"]
    ]
    return {"report": name, "parameters": resolved.values, "columns": describe(report)["columns"], **result}


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
