"""MIS reports from one registry: each declared report gets a page, CSV/XLSX, a JSON API,
org scoping and scheduled runs (docs/reports.md)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from service.extensions import api, csrf
    from service.ops.periodic import register_periodic
    from service.reports import api as reports_api
    from service.reports import catalogue, jobs, models, views  # noqa: F401  (registers tables, reports)
    from service.web.nav import register_nav

    csrf.exempt(reports_api.bp)
    api.register_blueprint(reports_api.bp)
    app.register_blueprint(views.bp)
    register_nav("Reports", "reports.index", roles=views.REPORT_ROLES, order=50)
    register_periodic("reports.schedules_due", 900, jobs.schedules_due, queue="bulk")
