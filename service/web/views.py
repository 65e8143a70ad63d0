"""The landing page: counts for the user's org unit."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from service.auth.principal import for_user
from service.auth.scoping import scope_to_org
from service.extensions import db
from service.masterdata.models import Consumer, Feeder, Meter, OrgUnit

bp = Blueprint("web", __name__)


@bp.get("/")
@login_required
def home() -> str:
    principal = for_user(current_user)
    consumers = db.session.scalar(
        scope_to_org(select(func.count(Consumer.id)), Consumer.org_unit_id, principal)
    )
    feeders = db.session.scalar(scope_to_org(select(func.count(Feeder.id)), Feeder.org_unit_id, principal))
    by_class = db.session.execute(
        scope_to_org(
            select(Meter.meter_class, func.count(Meter.id)).group_by(Meter.meter_class),
            Meter.org_unit_id,
            principal,
        ).order_by(Meter.meter_class)
    ).all()
    org = db.session.get(OrgUnit, principal.org_unit_id)
    return render_template(
        "home.html",
        org=org,
        consumers=consumers or 0,
        feeders=feeders or 0,
        meters_by_class=[(c, n) for c, n in by_class],
        meters_total=sum(n for _, n in by_class),
    )
