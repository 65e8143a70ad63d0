"""Notifications area: SMS and app push to consumers and staff, staff OTPs (docs/notifications.md).

Other areas call `notify(session, ...)` inside their own transaction; BPMN service tasks use
the outbox operations `notify.sms` / `notify.push`; approvals use `otp.issue` / `otp.verify`;
other OTP tables (the consumer app's sign-in) use `new_code`, `code_digest`, `check_code`,
`issue_limit`.
"""

from __future__ import annotations

from flask import Flask

from service.notifications.listing import for_consumer as consumer_notifications
from service.notifications.operations import check_request
from service.notifications.otp import ISSUE_WINDOW as OTP_ISSUE_WINDOW
from service.notifications.otp import MAX_ATTEMPTS as OTP_MAX_ATTEMPTS
from service.notifications.otp import VALIDITY as OTP_VALIDITY
from service.notifications.otp import (
    OtpLimitReached,
    Verification,
    check_code,
    code_digest,
    issue_limit,
    new_code,
)
from service.notifications.recipients import PLATFORMS, register_device
from service.notifications.sending import NotifyResult, notify

__all__ = [
    "OTP_ISSUE_WINDOW",
    "OTP_MAX_ATTEMPTS",
    "OTP_VALIDITY",
    "PLATFORMS",
    "NotifyResult",
    "OtpLimitReached",
    "Verification",
    "check_code",
    "check_request",
    "code_digest",
    "consumer_notifications",
    "init_app",
    "issue_limit",
    "new_code",
    "notify",
    "register_device",
]


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
