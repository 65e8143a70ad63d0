"""The one way an instance moves: lock, run the engine until it waits, persist, apply effects.

Effects land in the same transaction: work items for ready user tasks, outbox rows for service
tasks, due-timer rows, message waits, incidents and history. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, make_transient_to_detached

from service.audit.log import Actor, jsonable, record
from service.masterdata.models import OrgUnit
from service.outbox import outbox
from service.outbox.handlers import OPERATIONS
from service.processes.library import definition_for, store_definition, workflows
from service.processes.models import (
    Incident,
    MessageWait,
    ProcessEvent,
    ProcessInstance,
    ProcessMessage,
    ProcessTimer,
    WorkItem,
)
from service.processes.start_sql import insert_started
from workflows.engine import (
    Effects,
    EngineError,
    Event,
    MessageArrived,
    ReadyUserTask,
    StepRecord,
    WorkflowState,
    due_at,
)

TIMERS_PENDING_KEY = "cmdms.process_timers_pending"
OUTBOX_PREFIX = "workflow:"
MAX_MESSAGE_ROUNDS = 20


class ProcessConflict(Exception):
    """The instance or task changed since the caller looked (HTTP 409)."""

    def __init__(self, error: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.error = error
        self.details = details


class ProcessNotFound(LookupError):
    pass


@dataclass(frozen=True)
class StartRequest:
    process_id: str
    data: dict[str, Any]
    business_key: str | None
    org_unit_id: int | None


def start_instance(session: Session, request: StartRequest, actor: Actor) -> ProcessInstance:
    """Start an instance and run it until it waits; one statement writes it in the common case."""
    wf = workflows()
    definition = wf.library.get(request.process_id)
    state, effects = wf.engine.start(request.process_id, request.data)
    store_definition(session, definition)
    if effects.messages or effects.failure is not None or _unknown_operation(effects):
        # Early messages, incidents: the general path (rare at start).
        return _start_general(session, request, definition.spec_hash, state, effects, actor)
    now = datetime.now(UTC)
    status = "completed" if effects.completed else "running"
    events = [_event_row("started", actor, detail={"business_key": request.business_key})]
    events += [_history_row(step, actor) for step in effects.history]
    if effects.completed:
        events.append(_event_row("completed", actor))
    items = [
        _work_item_row(session, request.process_id, request.business_key, request.org_unit_id, task, now)
        for task in effects.user_tasks
    ]
    inserted = insert_started(
        session,
        {
            "process_id": request.process_id,
            "spec_hash": definition.spec_hash,
            "business_key": request.business_key,
            "status": status,
            "org_unit_id": request.org_unit_id,
            "state": state.serialized,
            "started_by": actor.name,
            "ended_at": now if effects.completed else None,
        },
        events,
        items,
        actor.kind,
        actor.name,
        jsonable({"process_id": request.process_id, "business_key": request.business_key}),
    )
    if inserted is None:
        raise _duplicate(session, request)
    instance = ProcessInstance(
        id=inserted.id,
        process_id=request.process_id,
        spec_hash=definition.spec_hash,
        business_key=request.business_key,
        status=status,
        org_unit_id=request.org_unit_id,
        state=state.serialized,
        version=1,
        started_by=actor.name,
        started_at=inserted.started_at,
        updated_at=inserted.updated_at,
        ended_at=now if effects.completed else None,
        error=None,
    )
    # The row is written: make the object persistent without loading it back.
    make_transient_to_detached(instance)
    session.add(instance)
    for call in effects.service_calls:
        _add_service_call(session, instance, call.task_id, call.bpmn_id, call.operation, call.params)
    _sync_timers(session, instance, effects, new=True)
    return instance


def _unknown_operation(effects: Effects) -> bool:
    return any(OUTBOX_PREFIX + call.operation not in OPERATIONS for call in effects.service_calls)


def _duplicate(session: Session, request: StartRequest) -> ProcessConflict:
    existing = session.scalar(
        select(ProcessInstance.id).where(
            ProcessInstance.process_id == request.process_id,
            ProcessInstance.business_key == request.business_key,
        )
    )
    return ProcessConflict(
        "duplicate_business_key",
        f"An instance of {request.process_id} with business key {request.business_key!r} exists.",
        instance_id=existing,
    )


def _event_row(
    kind: str, actor: Actor, bpmn_id: str = "", name: str = "", detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"kind": kind, "bpmn_id": bpmn_id, "name": name[:200], "actor": actor.name, "detail": detail}


def _history_row(step: StepRecord, actor: Actor) -> dict[str, Any]:
    kind = "task_started" if step.state == "STARTED" else "task_completed"
    return _event_row(kind, actor, bpmn_id=step.bpmn_id, name=step.name)


def _work_item_row(
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
        "due_at": due.isoformat() if due else None,
        "form_schema": task.form_schema,
        "data": task.data,
        "business_key": business_key,
    }


def _start_general(
    session: Session,
    request: StartRequest,
    spec_hash: str,
    state: WorkflowState,
    effects: Effects,
    actor: Actor,
) -> ProcessInstance:
    if request.business_key is not None:
        existing = session.scalar(
            select(ProcessInstance.id).where(
                ProcessInstance.process_id == request.process_id,
                ProcessInstance.business_key == request.business_key,
            )
        )
        if existing is not None:
            raise _duplicate(session, request)
    instance = ProcessInstance(
        process_id=request.process_id,
        spec_hash=spec_hash,
        business_key=request.business_key,
        status="running",
        org_unit_id=request.org_unit_id,
        state=state.serialized,
        version=0,
        started_by=actor.name,
    )
    session.add(instance)
    session.flush()
    _event(session, instance, "started", actor, detail={"business_key": request.business_key})
    _settle(session, instance, state, effects, actor, new=True)
    record(
        session,
        actor,
        "start",
        "process_instance",
        str(instance.id),
        None,
        {"process_id": request.process_id, "business_key": request.business_key},
    )
    return instance


def lock_instance(session: Session, instance_id: int) -> ProcessInstance:
    # populate_existing: the row as locked, not as cached before the lock (one round trip).
    instance = session.scalar(
        select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if instance is None:
        raise ProcessNotFound(f"no process instance {instance_id}")
    return instance


def advance_instance(
    session: Session,
    instance_id: int,
    event: Event,
    actor: Actor,
    expected_version: int | None = None,
) -> ProcessInstance:
    """Lock the instance (SELECT ... FOR UPDATE), check its version, apply `event`, settle."""
    return advance_locked(session, lock_instance(session, instance_id), event, actor, expected_version)


def advance_locked(
    session: Session,
    instance: ProcessInstance,
    event: Event,
    actor: Actor,
    expected_version: int | None = None,
    open_items: list[WorkItem] | None = None,
) -> ProcessInstance:
    """advance_instance for an instance the caller locked with lock_instance in this transaction.

    `open_items`: the instance's work items the caller locked after it (those still open count),
    so they need not be selected again."""
    if expected_version is not None and instance.version != expected_version:
        raise ProcessConflict(
            "version_conflict",
            "Someone else changed this process instance since you opened it; reload and try again.",
            instance_id=instance.id,
            expected_version=expected_version,
            current_version=instance.version,
        )
    if instance.status in ("completed", "cancelled"):
        raise ProcessConflict("instance_closed", f"Process instance {instance.id} is {instance.status}.")
    definition_for(session, instance.process_id, instance.spec_hash)
    state = WorkflowState(instance.process_id, instance.spec_hash, instance.state)
    new_state, effects = workflows().engine.advance(state, event)
    _settle(session, instance, new_state, effects, actor, open_items=open_items)
    return instance


def _settle(
    session: Session,
    instance: ProcessInstance,
    state: WorkflowState,
    effects: Effects,
    actor: Actor,
    new: bool = False,
    open_items: list[WorkItem] | None = None,
) -> None:
    """Deliver messages that arrived early, then persist the state and apply the effects."""
    engine = workflows().engine
    calls, history = list(effects.service_calls), list(effects.history)
    for _ in range(MAX_MESSAGE_ROUNDS):
        early = _take_early_message(session, instance, effects)
        if early is None:
            break
        state, effects = engine.advance(state, MessageArrived(early.name, early.payload))
        calls += effects.service_calls
        history += effects.history
        _event(session, instance, "message", actor, name=early.name, detail={"key": early.correlation_key})
    effects.service_calls, effects.history = calls, history
    now = datetime.now(UTC)
    instance.state = state.serialized
    instance.version += 1
    instance.updated_at = now
    for step in history:
        kind = "task_started" if step.state == "STARTED" else "task_completed"
        _event(session, instance, kind, actor, bpmn_id=step.bpmn_id, name=step.name)
    _sync_work_items(session, instance, effects, now, new, open_items)
    for call in effects.service_calls:
        _add_service_call(session, instance, call.task_id, call.bpmn_id, call.operation, call.params)
    # A definition without timer / message events can have no such rows: no need to look.
    definition = workflows().library.get(instance.process_id, instance.spec_hash)
    _sync_timers(session, instance, effects, new or not definition.has_timers)
    _sync_message_waits(session, instance, effects, new or not definition.has_messages)
    if effects.failure is not None:
        open_incident(
            session, instance, effects.failure.task_id, effects.failure.bpmn_id, "script", None, None,
            effects.failure.message, actor,
        )  # fmt: skip
    elif effects.completed:
        instance.status, instance.ended_at, instance.error = "completed", now, None
        _event(session, instance, "completed", actor)
    elif instance.status == "incident" and not _open_incidents(session, instance.id):
        instance.status, instance.error = "running", None


def _event(
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


def _sync_work_items(
    session: Session,
    instance: ProcessInstance,
    effects: Effects,
    now: datetime,
    new: bool,
    open_items: list[WorkItem] | None = None,
) -> None:
    groups = workflows().groups
    existing: dict[str, WorkItem] = {}
    if open_items is not None:
        existing = {w.task_id: w for w in open_items if w.status == "open"}
    elif not new:
        rows = session.scalars(
            select(WorkItem).where(WorkItem.instance_id == instance.id, WorkItem.status == "open")
        )
        existing = {w.task_id: w for w in rows}
    ready = {t.task_id for t in effects.user_tasks}
    for task in effects.user_tasks:
        if task.task_id in existing:
            continue
        group = groups.get(task.lane or "")
        session.add(
            WorkItem(
                instance_id=instance.id,
                task_id=task.task_id,
                process_id=instance.process_id,
                bpmn_id=task.bpmn_id,
                name=task.name[:200],
                candidate_group=task.lane or "",
                # A lane with no group mapping is worked by admins only (check warns of it).
                role=group.role if group else "admin",
                org_unit_id=_org_unit_for(session, instance.org_unit_id, group.org_levels_up if group else 0),
                status="open",
                priority=task.priority,
                due_at=due_at(now, task.due_in),
                form_schema=task.form_schema,
                data=task.data,
                business_key=instance.business_key,
            )
        )
    for task_id, item in existing.items():
        if task_id not in ready:  # interrupted, e.g. by a boundary timer
            item.status, item.completed_at = "cancelled", now


def _add_service_call(
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


def _sync_timers(session: Session, instance: ProcessInstance, effects: Effects, new: bool) -> None:
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
        pending = session.info.setdefault(TIMERS_PENDING_KEY, [])
        pending += [(row.id, row.fire_at) for row in added]


def _sync_message_waits(session: Session, instance: ProcessInstance, effects: Effects, new: bool) -> None:
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


def _lock_message_key(session: Session, name: str, correlation_key: str | None) -> None:
    # Serialises "message arrives" against "instance starts waiting" for one key.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"msg:{name}:{correlation_key}"}
    )


def _take_early_message(
    session: Session, instance: ProcessInstance, effects: Effects
) -> ProcessMessage | None:
    for awaited in effects.messages:
        _lock_message_key(session, awaited.name, awaited.correlation_key)
        message = session.scalar(
            select(ProcessMessage)
            .where(
                ProcessMessage.status == "pending",
                ProcessMessage.name == awaited.name,
                ProcessMessage.correlation_key == awaited.correlation_key,
            )
            .order_by(ProcessMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if message is not None:
            message.status, message.instance_id = "delivered", instance.id
            message.delivered_at = datetime.now(UTC)
            return message
    return None


def deliver_message(
    session: Session, name: str, correlation_key: str | None, payload: dict[str, Any], actor: Actor
) -> int | None:
    """Deliver to the instance waiting for (name, key), or keep it for the one that will wait."""
    _lock_message_key(session, name, correlation_key)
    wait = session.scalar(
        select(MessageWait)
        .where(MessageWait.name == name, MessageWait.correlation_key == correlation_key)
        .order_by(MessageWait.id)
        .limit(1)
    )
    message = ProcessMessage(name=name, correlation_key=correlation_key, payload=payload, status="pending")
    session.add(message)
    if wait is None:
        session.flush()
        return None
    instance_id = wait.instance_id
    message.status, message.instance_id, message.delivered_at = "delivered", instance_id, datetime.now(UTC)
    instance = advance_instance(session, instance_id, MessageArrived(name, payload), actor)
    _event(session, instance, "message", actor, name=name, detail={"key": correlation_key})
    return instance_id


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
    _event(
        session, instance, "incident", actor, bpmn_id=bpmn_id, detail={"error": error, "operation": operation}
    )
    return incident


def _open_incidents(session: Session, instance_id: int) -> int:
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
    _event(
        session,
        instance,
        kind,
        actor,
        bpmn_id=str(detail.pop("bpmn_id", "")),
        name=str(detail.pop("name", "")),
        detail=detail or None,
    )


__all__ = [
    "EngineError",
    "ProcessConflict",
    "ProcessNotFound",
    "StartRequest",
    "advance_instance",
    "advance_locked",
    "deliver_message",
    "lock_instance",
    "open_incident",
    "record_event",
    "start_instance",
]
