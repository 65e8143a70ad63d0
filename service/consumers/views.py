"""The consumer 360 page for customer care, field officers and analysts (org-scoped, audited)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user

from service.audit.log import Actor, record
from service.auth.principal import for_user
from service.auth.views import role_required
from service.consumers.profile import consumer_360
from service.unit_of_work import unit_of_work

bp = Blueprint("consumers", __name__, template_folder="templates")

PROFILE_ROLES = ("ccc_agent", "field_officer", "analyst")


def now_utc() -> datetime:
    """The app's clock port (tests set it), else the wall clock."""
    clock = current_app.extensions["cmdms.ports"].get("clock")
    return clock() if clock else datetime.now(UTC)


@bp.get("/consumers/<ivrs>", endpoint="profile")
@role_required(*PROFILE_ROLES)
def profile(ivrs: str) -> Any:
    ivrs = ivrs[:32]
    with unit_of_work() as uow:
        view = consumer_360(uow.session, for_user(current_user), ivrs, now_utc())
        # Every lookup is audited, a refused one too (unknown or outside the user's area).
        record(uow.session, Actor("user", current_user.username), "consumer.viewed", "consumer", ivrs,
               None, {"found": view is not None})  # fmt: skip
        uow.commit()
    if view is None:
        abort(404)
    return render_template("consumers/consumer.html", v=view, c=view["consumer"])
