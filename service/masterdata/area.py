"""The landing page's "your area" tiles: consumers, feeders and meters by class in the person's org
subtree (registered with `service.web.home`, so the landing page need not import master data)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.auth.scoping import scope_to_org
from service.masterdata.models import Consumer, Feeder, Meter


def area_counts(session: Session, principal: Principal) -> dict[str, Any]:
    consumers = session.scalar(scope_to_org(select(func.count(Consumer.id)), Consumer.org_unit_id, principal))
    feeders = session.scalar(scope_to_org(select(func.count(Feeder.id)), Feeder.org_unit_id, principal))
    by_class = session.execute(
        scope_to_org(
            select(Meter.meter_class, func.count(Meter.id)).group_by(Meter.meter_class),
            Meter.org_unit_id,
            principal,
        ).order_by(Meter.meter_class)
    ).all()
    return {
        "consumers": consumers or 0,
        "feeders": feeders or 0,
        "meters_by_class": [(c, n) for c, n in by_class],
        "meters_total": sum(n for _, n in by_class),
    }
