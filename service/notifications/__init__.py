"""Notifications area: SMS and app push to consumers and staff, staff OTPs (docs/notifications.md).

Other areas call `notify(session, ...)` inside their own transaction; BPMN service tasks use
the outbox operations `notify.sms` / `notify.push`; approvals use `otp.issue` / `otp.verify`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from service.notifications.sending import NotifyResult, notify

__all__ = ["NotifyResult", "init_app", "notify"]

_hooked = False


def _after_commit(session: Session) -> None:
    from service.notifications import jobs, sending

    pending = sending.take_pending(session)
    if pending and has_app_context():
        jobs.enqueue_pending(pending)


def _after_soft_rollback(session: Session, _previous: Any) -> None:
    from service.notifications import sending

    sending.take_pending(session)


def init_app(app: Flask) -> None:
    global _hooked
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
    if not _hooked:
        # Rows reach RQ only once their transaction has committed; the sweep covers the rest.
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
        _hooked = True
