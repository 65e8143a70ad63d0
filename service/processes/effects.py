"""What an instance step leaves in the database besides its row: history, work items, outbox
rows for service tasks, timer rows, message waits and incidents (inside the caller's transaction).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.audit.log import Actor
from service.orgs import OrgUnit
from service.outbox import outbox
from service.outbox.handlers import OPERATIONS
from service.processes.library import workflows
from service.processes.models import (
    Incident,
    MessageWait,
    ProcessEvent,
    ProcessInstance,
    ProcessTimer,
    WorkItem,
)
from service.processes.queueing import schedule_timers
from service.unit_of_work import collect_after_commit
from workflows.engine import Effects, ReadyUserTask, StepRecord, due_at

TIMERS_PENDING_KEY = "cmdms.process_timers_pending"
OUTBOX_PREFIX = "workflow:"


def unknown_operation(effects: Effects) -> bool:
    """A service call to an operation no worker knows (it becomes an incident)."""
    return any(OUTBOX_PREFIX + call.operation not in OPERATIONS for call in effects.service_calls)


def event_row(
    kind: str, actor: Actor, bpmn_id: str = "", name: str = "", detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"kind": kind, "bpmn_id": bpmn_id, "name": name[:200], "actor": actor.name, "detail": detail}


def history_row(step: StepRecord, actor: Actor) -> dict[str, Any]:
    kind = "task_started" if step.state == "STARTED" else "task_completed"
    return event_row(kind, actor, bpmn_id=step.bpmn_id, name=step.name)


def work_item_row(
    session: Session,
    process_id: str,
    business_key: str | None,
    org_unit_id: int | None,
    task: ReadyUserTask,
    now: datetime,
) -> dict[str, Any]:
    group = workflows().groups.get(task.lane or "")
    due = due_at(now, task.due_in)
    return {
        "task_id": task.task_id,
        "process_id": process_id,
        "bpmn_id": task.bpmn_id,
        "name": task.name[:200],
        "candidate_group": task.lane or "",
        # A lane with no group mapping is worked by admins only (check warns of it).
        "role": group.role if group else "admin",
        "org_unit_id": _org_unit_for(session, org_unit_id, group.org_levels_up if group else 0),
        "priority": task.priority,
        "due_at": due,
        "form_schema": task.form_schema,
        "data": task.data,
        "business_key": business_key,
    }


def add_event(
    session: Session,
    instance: ProcessInstance,
    kind: str,
    actor: Actor,
    bpmn_id: str = "",
    name: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        ProcessEvent(
            instance_id=instance.id,
            kind=kind,
            bpmn_id=bpmn_id,
            name=name[:200],
            actor=actor.name,
            detail=detail,
        )
    )


def _org_unit_for(session: Session, org_unit_id: int | None, levels_up: int) -> int | None:
    for _ in range(levels_up):
        if org_unit_id is None:
            return None
        unit = session.get(OrgUnit, org_unit_id)
        if unit is None or unit.parent_id is None:
            return org_unit_id
        org_unit_id = unit.parent_id
    return org_unit_id


def sync_work_items(
    session: Session,
    instance: ProcessInstance,
    effects: Effects,
    now: datetime,
    new: bool,
    open_items: list[WorkItem] | None = None,
) -> None:
    for row in work_item_changes(session, instance, effects, now, new, open_items):
        session.add(WorkItem(instance_id=instance.id, status="open", **row))


def work_item_changes(
    session: Session,
    instance: ProcessInstance,
    effects: Effects,
    now: datetime,
    new: bool,
    open_items: list[WorkItem] | None,
) -> list[dict[str, Any]]:
    """Cancel the open items whose task is no longer ready; the rows of newly ready tasks."""
    existing: dict[str, WorkItem] = {}
    if open_items is not None:
        existing = {w.task_id: w for w in open_items if w.status == "open"}
    elif not new:
        rows = session.scalars(
            select(WorkItem).where(WorkItem.instance_id == instance.id, WorkItem.status == "open")
        )
        existing = {w.task_id: w for w in rows}
    ready = {t.task_id for t in effects.user_tasks}
    for task_id, item in existing.items():
        if task_id not in ready:  # interrupted, e.g. by a boundary timer
            item.status, item.completed_at = "cancelled", now
    return [
        work_item_row(session, instance.process_id, instance.business_key, instance.org_unit_id, task, now)
        for task in effects.user_tasks
        if task.task_id not in existing
    ]


def add_service_call(
    session: Session,
    instance: ProcessInstance,
    task_id: str,
    bpmn_id: str,
    operation: str,
    params: dict[str, Any],
) -> None:
    payload = {"instance_id": instance.id, "task_id": task_id, "bpmn_id": bpmn_id, "params": params}
    try:
        outbox.add(session, OUTBOX_PREFIX + operation, payload, dedupe_key=f"wf-{instance.id}-{task_id}")
    except KeyError:
        open_incident(
            session, instance, task_id, bpmn_id, "service", operation, None,
            f"unknown service operation {operation!r}", Actor("system", "engine"),
        )  # fmt: skip


def sync_timers(session: Session, instance: ProcessInstance, effects: Effects, new: bool) -> None:
    rows: dict[str, ProcessTimer] = {}
    if not new:
        rows = {
            t.task_id: t
            for t in session.scalars(select(ProcessTimer).where(ProcessTimer.instance_id == instance.id))
        }
    waiting = {t.task_id for t in effects.timers}
    added: list[ProcessTimer] = []
    for timer in effects.timers:
        row = rows.get(timer.task_id)
        if row is None:
            row = ProcessTimer(
                instance_id=instance.id, task_id=timer.task_id, bpmn_id=timer.bpmn_id, fire_at=timer.fire_at,
                status="pending",
            )  # fmt: skip
            session.add(row)
            added.append(row)
        elif row.status != "pending" or row.fire_at != timer.fire_at:
            row.status, row.fire_at = "pending", timer.fire_at
            added.append(row)
    for task_id, row in rows.items():
        if task_id not in waiting and row.status == "pending":
            row.status = "cancelled"
    if added:
        session.flush()
        for row in added:
            collect_after_commit(session, TIMERS_PENDING_KEY, (row.id, row.fire_at), schedule_timers)


def sync_message_waits(session: Session, instance: ProcessInstance, effects: Effects, new: bool) -> None:
    rows: dict[str, MessageWait] = {}
    if not new:
        rows = {
            w.task_id: w
            for w in session.scalars(select(MessageWait).where(MessageWait.instance_id == instance.id))
        }
    awaited = {m.task_id for m in effects.messages}
    for message in effects.messages:
        if message.task_id not in rows:
            session.add(
                MessageWait(
                    instance_id=instance.id,
                    task_id=message.task_id,
                    bpmn_id=message.bpmn_id,
                    name=message.name,
                    correlation_key=message.correlation_key,
                )
            )
    for task_id, row in rows.items():
        if task_id not in awaited:
            session.delete(row)


def open_incident(
    session: Session,
    instance: ProcessInstance,
    task_id: str,
    bpmn_id: str,
    kind: str,
    operation: str | None,
    outbox_item_id: int | None,
    error: str,
    actor: Actor,
) -> Incident:
    incident = Incident(
        instance_id=instance.id, task_id=task_id, bpmn_id=bpmn_id, kind=kind, operation=operation,
        outbox_item_id=outbox_item_id, error=error, status="open",
    )  # fmt: skip
    session.add(incident)
    instance.status, instance.error = "incident", error
    add_event(
        session, instance, "incident", actor, bpmn_id=bpmn_id, detail={"error": error, "operation": operation}
    )
    return incident


def count_open_incidents(session: Session, instance_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(Incident.id)).where(
                Incident.instance_id == instance_id, Incident.status == "open"
            )
        )
        or 0
    )


def record_event(session: Session, instance: ProcessInstance, kind: str, actor: Actor, **detail: Any) -> None:
    """History entries written by other modules (claims, reassignments)."""
    add_event(
        session,
        instance,
        kind,
        actor,
        bpmn_id=str(detail.pop("bpmn_id", "")),
        name=str(detail.pop("name", "")),
        detail=detail or None,
    )
