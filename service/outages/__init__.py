"""Outages: inferred from stored power-fail/restore events through the correlation rules, as
they arrive (the stream after each committed batch) and by the reconciling batch pass; planned
outages and their notices (workflows/outage_notification.bpmn)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from service.outages.consumer import outages_for_consumer

__all__ = ["init_app", "outages_for_consumer"]


def init_app(app: Flask) -> None:
    from service.extensions import api, csrf
    from service.ops.periodic import register_periodic
    from service.outages import api as outages_api
    from service.outages import jobs, models, planned  # noqa: F401  (models registers the tables)
    from service.processes.operations import register_operation
    from service.readings.hooks import on_events_stored

    on_events_stored(jobs.on_events_stored)
    register_periodic("outages.reconcile", 300, jobs.reconcile)

    def write_notices(session: Session, params: dict[str, Any], context: Any) -> dict[str, Any]:
        return planned.write_notices(session, params, context, now=jobs.now_utc())

    register_operation("outages.planned_notice", planned.check_notice_params, backoff_seconds=1.0,
                       max_attempts=3, write=write_notices)  # fmt: skip
    csrf.exempt(outages_api.bp)
    api.register_blueprint(outages_api.bp)
    from service.outages import views
    from service.web.nav import register_nav

    app.register_blueprint(views.bp)
    register_nav("Outages", "outages.live_page", roles=views.VIEW_ROLES, order=30)
