"""Bulk start: up to MAX_BATCH instances of one process in one transaction (billing's DO/RC lists,
inspection requests). The engine runs per item; the writes of all plain starts are one statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.log import Actor
from service.orgs import OrgUnit
from service.processes.effects import event_row, history_row, work_item_row
from service.processes.library import store_definition, workflows
from service.processes.models import ProcessInstance
from service.processes.runtime import ProcessConflict, StartRequest, needs_general_start, start_computed
from service.processes.writes import StartedRow, insert_started_many
from workflows.engine import Effects, EngineError, WorkflowState

MAX_BATCH = 1000

# (business_key, org unit code or id, start data)
BatchItem = tuple[str | None, str | int | None, dict[str, Any]]


class BatchTooLarge(ValueError):
    """More than MAX_BATCH items: nothing is started (HTTP 413)."""


@dataclass(frozen=True)
class ItemOutcome:
    index: int
    business_key: str | None
    instance_id: int | None = None
    reason: str | None = None  # duplicate_business_key, unknown_org_unit, invalid_data, ...
    message: str = ""

    @property
    def started(self) -> bool:
        return self.reason is None


def start_many(
    session: Session,
    bpmn_id: str,
    items: Sequence[BatchItem],
    actor: Actor,
    may_start_in: Callable[[int], bool] | None = None,
) -> list[ItemOutcome]:
    """Start every acceptable item; one outcome per item, in order. Does not commit.

    Rejects (nothing written for them): a business key that exists or came earlier in `items`
    (`duplicate_business_key`, with the existing instance id), an unknown org unit, data the
    engine refuses (`invalid_data`), an org unit `may_start_in` refuses (`outside_your_org_unit`).
    Items that meet an early message, a timer, a service call or a script failure take the
    per-instance path, in a savepoint of the same transaction."""
    if len(items) > MAX_BATCH:
        raise BatchTooLarge(f"at most {MAX_BATCH} items per batch, got {len(items)}")
    wf = workflows()
    definition = wf.library.get(bpmn_id)  # KeyError for an unknown process
    store_definition(session, definition)
    outcomes: dict[int, ItemOutcome] = {}
    org_units = _resolve_org_units(session, [org for _, org, _ in items])
    existing = _existing_keys(session, bpmn_id, [key for key, _, _ in items])
    allowed: dict[int, bool] = {}
    seen: set[str] = set()
    accepted: list[tuple[int, str | None, int]] = []
    for index, (key, org, _) in enumerate(items):
        if key is not None and (key in seen or key in existing):
            outcomes[index] = _duplicate(index, key, bpmn_id, existing.get(key))
            continue
        if key is not None:
            seen.add(key)
        org_unit_id = org_units.get(org) if org is not None else None
        if org_unit_id is None:
            outcomes[index] = ItemOutcome(
                index, key, reason="unknown_org_unit", message=f"Unknown org unit {org!r}."
            )
            continue
        if may_start_in is not None:
            if org_unit_id not in allowed:
                allowed[org_unit_id] = may_start_in(org_unit_id)
            if not allowed[org_unit_id]:
                outcomes[index] = ItemOutcome(
                    index, key, reason="outside_your_org_unit", message="That org unit is outside your area."
                )
                continue
        accepted.append((index, key, org_unit_id))

    now = datetime.now(UTC)
    plain: list[tuple[int, StartedRow]] = []
    general: list[tuple[int, StartRequest, WorkflowState, Effects]] = []
    for index, key, org_unit_id in accepted:
        data = items[index][2]
        try:
            state, effects = wf.engine.start(bpmn_id, data)
        except EngineError as exc:
            outcomes[index] = ItemOutcome(index, key, reason="invalid_data", message=str(exc))
            continue
        if needs_general_start(effects) or effects.service_calls or effects.timers:
            general.append((index, StartRequest(bpmn_id, data, key, org_unit_id), state, effects))
            continue
        plain.append((index, _started_row(session, bpmn_id, key, org_unit_id, state, effects, actor, now)))

    written = insert_started_many(
        session, bpmn_id, definition.spec_hash, [row for _, row in plain], actor.kind, actor.name
    )
    for position, (index, row) in enumerate(plain):
        instance_id = written.get(position)
        if instance_id is None:  # taken by a concurrent start since we looked
            outcomes[index] = _duplicate(index, row.business_key, bpmn_id, None)
        else:
            outcomes[index] = ItemOutcome(index, row.business_key, instance_id=instance_id)
    for index, request, state, effects in general:
        outcomes[index] = _start_one(session, index, request, definition.spec_hash, state, effects, actor)
    return [outcomes[i] for i in range(len(items))]


def _started_row(
    session: Session,
    bpmn_id: str,
    key: str | None,
    org_unit_id: int,
    state: WorkflowState,
    effects: Effects,
    actor: Actor,
    now: datetime,
) -> StartedRow:
    """The rows start_instance's one statement writes for one instance."""
    events = [event_row("started", actor, detail={"business_key": key})]
    events += [history_row(step, actor) for step in effects.history]
    if effects.completed:
        events.append(event_row("completed", actor))
    return StartedRow(
        business_key=key,
        status="completed" if effects.completed else "running",
        org_unit_id=org_unit_id,
        state=state.serialized,
        ended_at=now if effects.completed else None,
        events=events,
        items=[work_item_row(session, bpmn_id, key, org_unit_id, task, now) for task in effects.user_tasks],
    )


def _start_one(
    session: Session,
    index: int,
    request: StartRequest,
    spec_hash: str,
    state: WorkflowState,
    effects: Effects,
    actor: Actor,
) -> ItemOutcome:
    """The per-instance path in a savepoint: a clash on the business key undoes only this item."""
    savepoint = session.begin_nested()
    try:
        instance = start_computed(session, request, spec_hash, state, effects, actor)
        session.flush()
    except ProcessConflict as exc:
        savepoint.rollback()
        return ItemOutcome(
            index, request.business_key, exc.details.get("instance_id"), "duplicate_business_key", str(exc)
        )
    savepoint.commit()
    return ItemOutcome(index, request.business_key, instance_id=int(instance.id))


def _duplicate(index: int, key: str | None, bpmn_id: str, existing_id: int | None) -> ItemOutcome:
    return ItemOutcome(
        index,
        key,
        existing_id,
        "duplicate_business_key",
        f"An instance of {bpmn_id} with business key {key!r} exists or comes earlier in this batch.",
    )


def _resolve_org_units(session: Session, wanted: list[str | int | None]) -> dict[str | int, int]:
    """Org unit code or id -> id, in one query; unknown ones are missing."""
    codes = sorted({w for w in wanted if isinstance(w, str)})
    ids = sorted({w for w in wanted if isinstance(w, int) and not isinstance(w, bool)})
    if not codes and not ids:
        return {}
    rows = session.execute(
        select(OrgUnit.id, OrgUnit.code).where(OrgUnit.code.in_(codes) | OrgUnit.id.in_(ids))
    )
    found: dict[str | int, int] = {}
    for unit_id, code in rows:
        if code in codes:
            found[code] = int(unit_id)
        if unit_id in ids:
            found[int(unit_id)] = int(unit_id)
    return found


def _existing_keys(session: Session, bpmn_id: str, keys: list[str | None]) -> dict[str, int]:
    wanted = sorted({k for k in keys if k is not None})
    if not wanted:
        return {}
    rows = session.execute(
        select(ProcessInstance.business_key, ProcessInstance.id).where(
            ProcessInstance.process_id == bpmn_id, ProcessInstance.business_key.in_(wanted)
        )
    )
    return {str(key): int(instance_id) for key, instance_id in rows}


def outcomes_body(outcomes: list[ItemOutcome]) -> dict[str, Any]:
    """The API's answer: counts, rejects with reasons, started instances (by request index)."""
    return {
        "started": sum(1 for o in outcomes if o.started),
        "rejected": [
            {"index": o.index, "business_key": o.business_key, "reason": o.reason, "message": o.message}
            | ({"instance_id": o.instance_id} if o.instance_id is not None else {})
            for o in outcomes
            if not o.started
        ],
        "instances": [
            {"index": o.index, "business_key": o.business_key, "instance_id": o.instance_id}
            for o in outcomes
            if o.started
        ],
    }
