"""Notifications area: SMS and app push to consumers and staff, staff OTPs (docs/notifications.md).

Other areas call `notify(session, ...)` inside their own transaction; BPMN service tasks use
the outbox operations `notify.sms` / `notify.push`; approvals use `otp.issue` / `otp.verify`.
"""

from __future__ import annotations

from flask import Flask

from service.notifications.operations import check_request
from service.notifications.sending import NotifyResult, notify

__all__ = ["NotifyResult", "check_request", "init_app", "notify"]


def init_app(app: Flask) -> None:
    from service.demo.seed import register_step
    from service.extensions import api, csrf
    from service.notifications import api as notifications_api
    from service.notifications import demo, jobs, models, operations, views  # noqa: F401
    from service.notifications.engine import EXTENSION_KEY, build_engine
    from service.ops.periodic import register_periodic
    from service.web.nav import register_nav

    app.extensions[EXTENSION_KEY] = build_engine(
        app.extensions["cmdms.config"], app.extensions["cmdms.ports"]
    )
    csrf.exempt(notifications_api.blp)
    api.register_blueprint(notifications_api.blp)
    app.register_blueprint(views.bp)
    register_nav("Notifications", "notifications.index", roles=("ccc_agent",), order=70)
    register_periodic("notifications.sweep", 15, jobs.sweep)
    operations.register_operations()
    register_step("notifications", demo.seed_notifications)
