"""The one way an instance moves: lock, run the engine until it waits, persist, apply effects.

Effects land in the same transaction: work items for ready user tasks, outbox rows for service
tasks, due-timer rows, message waits, incidents and history. The caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import literal, or_, select, text
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from service.audit.log import Actor, jsonable, record
from service.auth.scoping import at_or_below
from service.orgs import OrgUnit
from service.processes.effects import (
    OUTBOX_PREFIX,
    TIMERS_PENDING_KEY,
    add_event,
    add_service_call,
    count_open_incidents,
    event_row,
    history_row,
    open_incident,
    record_event,
    sync_message_waits,
    sync_timers,
    sync_work_items,
    unknown_operation,
    work_item_changes,
    work_item_row,
)
from service.processes.library import definition_for, store_definition, workflows
from service.processes.models import (
    MessageWait,
    ProcessInstance,
    ProcessMessage,
    WorkItem,
)
from service.processes.writes import insert_started, update_advanced
from workflows.engine import (
    Effects,
    EngineError,
    Event,
    MessageArrived,
    WorkflowState,
)

MAX_MESSAGE_ROUNDS = 20


# (action, entity, key, after) of an audit entry written with an instance step.
AuditNote = tuple[str, str, str, dict[str, Any] | None]


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
    return start_computed(session, request, definition.spec_hash, state, effects, actor)


def needs_general_start(effects: Effects) -> bool:
    """Early messages, incidents, unknown operations: the ORM path (rare at start)."""
    return bool(effects.messages) or effects.failure is not None or unknown_operation(effects)


def start_computed(
    session: Session,
    request: StartRequest,
    spec_hash: str,
    state: WorkflowState,
    effects: Effects,
    actor: Actor,
) -> ProcessInstance:
    """start_instance after the engine ran (start_many runs it once per item, then falls back here)."""
    definition = workflows().library.get(request.process_id, spec_hash)
    store_definition(session, definition)
    if needs_general_start(effects):
        # Early messages, incidents: the general path (rare at start).
        return _start_general(session, request, definition.spec_hash, state, effects, actor)
    now = datetime.now(UTC)
    status = "completed" if effects.completed else "running"
    events = [event_row("started", actor, detail={"business_key": request.business_key})]
    events += [history_row(step, actor) for step in effects.history]
    if effects.completed:
        events.append(event_row("completed", actor))
    items = [
        work_item_row(session, request.process_id, request.business_key, request.org_unit_id, task, now)
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
        add_service_call(session, instance, call.task_id, call.bpmn_id, call.operation, call.params)
    sync_timers(session, instance, effects, new=True)
    return instance


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
    add_event(session, instance, "started", actor, detail={"business_key": request.business_key})
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
    audit: list[AuditNote] | None = None,
) -> ProcessInstance:
    """advance_instance for an instance the caller locked with lock_instance in this transaction.

    `open_items`: the instance's work items the caller locked after it (those still open count),
    so they need not be selected again. `audit`: the caller's entries, written with the step."""
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
    _settle(session, instance, new_state, effects, actor, open_items=open_items, audit=audit)
    return instance


def _settle(
    session: Session,
    instance: ProcessInstance,
    state: WorkflowState,
    effects: Effects,
    actor: Actor,
    new: bool = False,
    open_items: list[WorkItem] | None = None,
    audit: list[AuditNote] | None = None,
) -> None:
    """Deliver messages that arrived early, then persist the state and apply the effects.

    `audit`: entries of the caller's use case, written with the step (one statement)."""
    if not new and not effects.messages and effects.failure is None and not unknown_operation(effects):
        _settle_in_one_statement(session, instance, state, effects, actor, open_items, audit or [])
        return
    engine = workflows().engine
    calls, history = list(effects.service_calls), list(effects.history)
    for _ in range(MAX_MESSAGE_ROUNDS):
        early = _take_early_message(session, instance, effects)
        if early is None:
            break
        state, effects = engine.advance(state, MessageArrived(early.name, early.payload))
        calls += effects.service_calls
        history += effects.history
        add_event(session, instance, "message", actor, name=early.name, detail={"key": early.correlation_key})
    effects.service_calls, effects.history = calls, history
    now = datetime.now(UTC)
    instance.state = state.serialized
    instance.version += 1
    instance.updated_at = now
    for step in history:
        kind = "task_started" if step.state == "STARTED" else "task_completed"
        add_event(session, instance, kind, actor, bpmn_id=step.bpmn_id, name=step.name)
    sync_work_items(session, instance, effects, now, new, open_items)
    for call in effects.service_calls:
        add_service_call(session, instance, call.task_id, call.bpmn_id, call.operation, call.params)
    # A definition without timer / message events can have no such rows: no need to look.
    definition = workflows().library.get(instance.process_id, instance.spec_hash)
    sync_timers(session, instance, effects, new or not definition.has_timers)
    sync_message_waits(session, instance, effects, new or not definition.has_messages)
    if effects.failure is not None:
        open_incident(
            session, instance, effects.failure.task_id, effects.failure.bpmn_id, effects.failure.kind, None, None,
            effects.failure.message, actor,
        )  # fmt: skip
    elif effects.completed:
        instance.status, instance.ended_at, instance.error = "completed", now, None
        add_event(session, instance, "completed", actor)
    elif instance.status == "incident" and not count_open_incidents(session, instance.id):
        instance.status, instance.error = "running", None
    for action, entity, key, after in audit or []:
        record(session, actor, action, entity, key, None, after)


def _settle_in_one_statement(
    session: Session,
    instance: ProcessInstance,
    state: WorkflowState,
    effects: Effects,
    actor: Actor,
    open_items: list[WorkItem] | None,
    audit: list[AuditNote],
) -> None:
    """_settle without early messages or incidents: the row, history, work items, audit at once."""
    now = datetime.now(UTC)
    status, ended_at, error = instance.status, instance.ended_at, instance.error
    events = [history_row(step, actor) for step in effects.history]
    if effects.completed:
        status, ended_at, error = "completed", now, None
        events.append(event_row("completed", actor))
    elif status == "incident" and not count_open_incidents(session, instance.id):
        status, error = "running", None
    items = work_item_changes(session, instance, effects, now, False, open_items)
    version = instance.version + 1
    written = update_advanced(
        session,
        {"id": instance.id, "state": state.serialized, "version": version, "updated_at": now,
         "status": status, "ended_at": ended_at, "error": error},
        events,
        items,
        [
            {"actor_kind": actor.kind, "actor": actor.name, "action": action, "entity": entity,
             "entity_key": key, "before": None, "after": jsonable(after) if after is not None else None}
            for action, entity, key, after in audit
        ],
    )  # fmt: skip
    if not written:
        raise ProcessNotFound(f"no process instance {instance.id}")
    # The row holds these now; the ORM must not write them again.
    for name, value in (
        ("state", state.serialized), ("version", version), ("updated_at", now), ("status", status),
        ("ended_at", ended_at), ("error", error),
    ):  # fmt: skip
        set_committed_value(instance, name, value)
    for call in effects.service_calls:
        add_service_call(session, instance, call.task_id, call.bpmn_id, call.operation, call.params)
    definition = workflows().library.get(instance.process_id, instance.spec_hash)
    sync_timers(session, instance, effects, not definition.has_timers)
    sync_message_waits(session, instance, effects, not definition.has_messages)


def _lock_message_key(session: Session, name: str, correlation_key: str | None) -> None:
    # Serialises "message arrives" against "instance starts waiting" for one key.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"msg:{name}:{correlation_key}"}
    )


def _org_subtree(org_unit_id: Any, correlate: bool = False) -> Any:
    root = select(OrgUnit.path).where(OrgUnit.id == org_unit_id).scalar_subquery()
    if correlate:
        root = root.correlate(ProcessMessage)
    return select(OrgUnit.id).where(at_or_below(root))


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
                or_(
                    ProcessMessage.sender_org_unit_id.is_(None),
                    literal(instance.org_unit_id).in_(
                        _org_subtree(ProcessMessage.sender_org_unit_id, correlate=True)
                    ),
                ),
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
    session: Session,
    name: str,
    correlation_key: str | None,
    payload: dict[str, Any],
    actor: Actor,
    sender_org_unit_id: int | None = None,
) -> int | None:
    """Deliver to the instance waiting for (name, key), or keep it for the one that will wait.

    A sender limited to an org unit (`sender_org_unit_id`) reaches only instances at or below
    it, now and when its kept message is taken later; other waiting instances do not see it.
    """
    _lock_message_key(session, name, correlation_key)
    stmt = select(MessageWait).where(MessageWait.name == name, MessageWait.correlation_key == correlation_key)
    if sender_org_unit_id is not None:
        stmt = stmt.where(
            MessageWait.instance_id.in_(
                select(ProcessInstance.id).where(
                    ProcessInstance.org_unit_id.in_(_org_subtree(sender_org_unit_id))
                )
            )
        )
    wait = session.scalar(stmt.order_by(MessageWait.id).limit(1))
    message = ProcessMessage(
        name=name,
        correlation_key=correlation_key,
        payload=payload,
        status="pending",
        sender_org_unit_id=sender_org_unit_id,
    )
    session.add(message)
    if wait is None:
        session.flush()
        return None
    instance_id = wait.instance_id
    message.status, message.instance_id, message.delivered_at = "delivered", instance_id, datetime.now(UTC)
    instance = advance_instance(session, instance_id, MessageArrived(name, payload), actor)
    add_event(session, instance, "message", actor, name=name, detail={"key": correlation_key})
    return instance_id


__all__ = [
    "OUTBOX_PREFIX",
    "TIMERS_PENDING_KEY",
    "EngineError",
    "ProcessConflict",
    "ProcessNotFound",
    "StartRequest",
    "advance_instance",
    "advance_locked",
    "deliver_message",
    "lock_instance",
    "needs_general_start",
    "open_incident",
    "record_event",
    "start_computed",
    "start_instance",
]
