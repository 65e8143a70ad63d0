"""Home panels of the processes area: my tasks, my team's load and approvals, open incidents."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.auth.scoping import at_or_below, scope_to_org
from service.orgs import OrgUnit
from service.processes import queue
from service.processes.library import workflows
from service.processes.models import Incident, ProcessInstance, WorkItem
from service.web.times import ist_day_bounds, ist_today


def my_tasks(session: Session, principal: Principal, now: datetime) -> dict[str, Any] | None:
    """Open, overdue and due-today counts of my group's queue, and the next tasks by due date."""
    group = queue.filtered_items(session, principal, queue.QueueFilter(), now).subquery()
    end_of_today = ist_day_bounds(ist_today(now))[1]
    counts = session.execute(
        select(
            func.count(),
            func.count().filter(group.c.assignee_id == principal.user_id),
            func.count().filter(group.c.due_at < now),
            func.count().filter(group.c.due_at >= now, group.c.due_at < end_of_today),
        ).select_from(group)
    ).one()
    upcoming = session.scalars(
        queue.filtered_items(session, principal, queue.QueueFilter(), now)
        .order_by(WorkItem.due_at.asc().nulls_last(), WorkItem.id)
        .limit(8)
    ).all()
    return {
        "open": counts[0],
        "mine": counts[1],
        "overdue": counts[2],
        "today": counts[3],
        "upcoming": upcoming,
        "now": now,
    }


def team_load(session: Session, principal: Principal, now: datetime) -> dict[str, Any] | None:
    """For a supervisor (an org unit with units below it): open and overdue work per unit below,
    and the approval steps (steps with bulk actions) that wait."""
    if principal.org_unit_id is None and principal.role != "admin":
        return None
    children = session.execute(
        select(OrgUnit.id, OrgUnit.code, OrgUnit.path).where(OrgUnit.parent_id == principal.org_unit_id)
        if principal.org_unit_id is not None
        else select(OrgUnit.id, OrgUnit.code, OrgUnit.path).where(OrgUnit.parent_id.is_(None))
    ).all()
    if not children:
        return None
    visible = queue.visible_items(principal).where(WorkItem.status == "open").subquery()
    rows = []
    for child in children:
        below = select(OrgUnit.id).where(at_or_below(child.path))
        total, overdue, claimed = session.execute(
            select(
                func.count(),
                func.count().filter(visible.c.due_at < now),
                func.count().filter(visible.c.assignee_id.is_not(None)),
            ).where(visible.c.org_unit_id.in_(below))
        ).one()
        rows.append({"code": child.code, "open": total, "overdue": overdue, "claimed": claimed})
    approvals = []
    steps = {
        (d.process_id, bpmn_id): info.name
        for d in workflows().library.current.values()
        for bpmn_id, info in d.user_tasks.items()
        if info.bulk_actions
    }
    if steps:
        waiting = session.execute(
            select(visible.c.process_id, visible.c.bpmn_id, func.count(), func.min(visible.c.created_at))
            .group_by(visible.c.process_id, visible.c.bpmn_id)
            .order_by(func.count().desc())
        ).all()
        approvals = [
            {"process": p, "bpmn_id": b, "name": steps[(p, b)], "count": n, "oldest": oldest}
            for p, b, n, oldest in waiting
            if (p, b) in steps
        ]
    return {"units": rows, "approvals": approvals}


def open_incidents(session: Session, principal: Principal, now: datetime) -> dict[str, Any] | None:
    """Failed service steps (HES commands, billing posts) in my area, newest first."""
    stmt = scope_to_org(
        select(Incident, ProcessInstance.process_id, ProcessInstance.business_key).join(
            ProcessInstance, ProcessInstance.id == Incident.instance_id
        ),
        ProcessInstance.org_unit_id,
        principal,
    ).where(Incident.status == "open")
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    week = session.scalar(
        select(func.count()).select_from(stmt.where(Incident.created_at > now - timedelta(days=7)).subquery())
    )
    latest = session.execute(stmt.order_by(Incident.id.desc()).limit(6)).all()
    return {"total": total, "latest": latest, "week": week or 0}
