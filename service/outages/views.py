"""The control-centre page: live outages by circle, division, feeder and DT (IST, paginated, scoped)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from service.auth.principal import for_user
from service.auth.views import role_required
from service.extensions import db
from service.outages import live
from service.outages.jobs import now_utc
from service.web import lists
from service.web.views import list_export

bp = Blueprint("outages", __name__, template_folder="templates")
VIEW_ROLES = ("control_centre", "ccc_agent", "field_officer", "analyst", "viewer")


@bp.get("/outages")
@role_required(*VIEW_ROLES)
def live_page() -> Any:
    args = live.clean_args(request.args)
    stmt = live.live_query(for_user(current_user), args, now_utc())
    if request.args.get("export"):
        return list_export(live.LIVE, stmt)
    lp = lists.read_page(db.session(), live.LIVE, stmt, request.args, url_for("outages.live_page"))
    return render_template("outages/live.html", lp=lp, levels=live.LEVELS, kinds=live.KINDS)
