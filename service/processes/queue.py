"""The work queue: who may see and work an item, filters, claim / unclaim / reassign, completion."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from service.audit.log import record
from service.auth import User
from service.auth.principal import Principal
from service.auth.scoping import at_or_below, can_see, scope_to_org
from service.orgs import OrgUnit
from service.processes.library import workflows
from service.processes.models import ProcessInstance, WorkItem
from service.processes.runtime import AuditNote, ProcessConflict, advance_locked, lock_instance, record_event
from service.web.times import ist_day_bounds, ist_today
from workflows import forms
from workflows.engine import CompleteUserTask

SORTS: dict[str, tuple[Any, ...]] = {
    "due": (WorkItem.due_at.asc().nulls_last(), WorkItem.id),
    "created": (WorkItem.created_at.desc(), WorkItem.id.desc()),
    "priority": (WorkItem.priority.desc(), WorkItem.due_at.asc().nulls_last(), WorkItem.id),
}
DUE_CHOICES = ("", "overdue", "today", "week", "none")
SCOPES = ("mine", "group", "all")
STATUSES = ("open", "completed", "cancelled", "any")
PAGE_SIZE = 100


class FormInvalid(ValueError):
    def __init__(self, errors: list[forms.FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


class NotAllowed(PermissionError):
    pass


@dataclass(frozen=True)
class QueueFilter:
    scope: str = "group"  # mine | group (mine + my candidate groups) | all (admins, supervisors)
    process: str = ""
    task: str = ""
    org_unit: str = ""  # org unit code; its subtree
    due: str = ""
    status: str = "open"
    text: str = ""
    sort: str = "due"

    @classmethod
    def from_args(cls, args: Any) -> QueueFilter:
        f = cls(
            scope=args.get("scope", "group"),
            process=args.get("process", "")[:100],
            task=args.get("task", "")[:100],
            org_unit=args.get("org_unit", "")[:32],
            due=args.get("due", ""),
            status=args.get("status", "open"),
            text=args.get("q", "")[:100],
            sort=args.get("sort", "due"),
        )
        return replace(
            f,
            scope=f.scope if f.scope in SCOPES else "group",
            due=f.due if f.due in DUE_CHOICES else "",
            status=f.status if f.status in STATUSES else "open",
            sort=f.sort if f.sort in SORTS else "due",
        )


def visible_items(principal: Principal) -> Select[tuple[WorkItem]]:
    """Items of my org subtree and of my role's candidate groups (admins: every role).

    Work items are human tasks: a system principal (an API key) has neither a role nor a user
    id, and `role == NULL` would render as IS NULL and match every unclaimed item, so systems
    see none. Systems finish service-side steps only, through the outbox and messages.
    """
    if principal.kind != "user" or principal.user_id is None:
        return select(WorkItem).where(false())
    stmt = scope_to_org(select(WorkItem), WorkItem.org_unit_id, principal)
    if principal.role != "admin":
        stmt = stmt.where(or_(WorkItem.role == principal.role, WorkItem.assignee_id == principal.user_id))
    return stmt


def filtered_items(session: Session, principal: Principal, f: QueueFilter, now: datetime) -> Select[Any]:
    """The principal's visible items narrowed by the filter, unordered (the list pages and sorts)."""
    stmt = visible_items(principal)
    if f.scope == "mine":
        stmt = stmt.where(WorkItem.assignee_id == principal.user_id)
    elif f.scope == "group":
        stmt = stmt.where(or_(WorkItem.assignee_id.is_(None), WorkItem.assignee_id == principal.user_id))
    if f.status != "any":
        stmt = stmt.where(WorkItem.status == f.status)
    if f.process:
        stmt = stmt.where(WorkItem.process_id == f.process)
    if f.task:
        stmt = stmt.where(WorkItem.bpmn_id == f.task)
    if f.org_unit:
        path = select(OrgUnit.path).where(OrgUnit.code == f.org_unit).scalar_subquery()
        stmt = stmt.where(WorkItem.org_unit_id.in_(select(OrgUnit.id).where(at_or_below(path))))
    if f.due == "overdue":
        stmt = stmt.where(WorkItem.due_at < now)
    elif f.due == "today":  # due before the end of today in India
        stmt = stmt.where(WorkItem.due_at < ist_day_bounds(ist_today(now))[1])
    elif f.due == "week":
        stmt = stmt.where(WorkItem.due_at < now + timedelta(days=7))
    elif f.due == "none":
        stmt = stmt.where(WorkItem.due_at.is_(None))
    if f.text:
        like = f"%{f.text.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(WorkItem.name.ilike(like), WorkItem.business_key.ilike(like)))
    return stmt


def list_items(
    session: Session, principal: Principal, f: QueueFilter, limit: int = PAGE_SIZE
) -> list[WorkItem]:
    stmt = filtered_items(session, principal, f, datetime.now(UTC))
    return list(session.scalars(stmt.order_by(*SORTS[f.sort]).limit(limit)))


def get_item(session: Session, principal: Principal, item_id: int) -> WorkItem:
    item = session.scalar(visible_items(principal).where(WorkItem.id == item_id))
    if item is None:
        raise LookupError(f"no work item {item_id} for you")
    return item


def is_supervisor_of(session: Session, principal: Principal, item: WorkItem) -> bool:
    """Admins, and people of the item's role whose org unit lies strictly above the item's."""
    if principal.role == "admin":
        return True
    if principal.role != item.role or principal.org_unit_id is None or item.org_unit_id is None:
        return False
    return principal.org_unit_id != item.org_unit_id and can_see(session, principal, item.org_unit_id)


def _locked_item(session: Session, principal: Principal, item_id: int, visible: bool = False) -> WorkItem:
    """Lock an item the principal may see (`visible`: the caller checked that already)."""
    if not visible:
        get_item(session, principal, item_id)
    # populate_existing: the row as locked, not as cached before the lock (one round trip).
    item = session.scalar(
        select(WorkItem)
        .where(WorkItem.id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert item is not None
    if item.status != "open":
        raise ProcessConflict("task_closed", f"This task is already {item.status}.", work_item_id=item.id)
    return item


def claim(session: Session, principal: Principal, item_id: int) -> WorkItem:
    item = _locked_item(session, principal, item_id)
    if item.assignee_id not in (None, principal.user_id):
        holder = session.get(User, item.assignee_id)
        raise ProcessConflict(
            "already_claimed",
            f"{holder.username if holder else 'someone'} has claimed this task.",
            work_item_id=item.id,
        )
    item.assignee_id = principal.user_id
    _note(session, item, principal, "claimed")
    return item


def unclaim(session: Session, principal: Principal, item_id: int) -> WorkItem:
    item = _locked_item(session, principal, item_id)
    if item.assignee_id != principal.user_id and not is_supervisor_of(session, principal, item):
        raise NotAllowed("Only the person who claimed the task or a supervisor may release it.")
    item.assignee_id = None
    _note(session, item, principal, "unclaimed")
    return item


def reassign(session: Session, principal: Principal, item_id: int, username: str) -> WorkItem:
    item = _locked_item(session, principal, item_id)
    if not is_supervisor_of(session, principal, item):
        raise NotAllowed("Only a supervisor (higher in the org tree) or an admin may reassign a task.")
    target = session.scalar(select(User).where(User.username == username, User.is_active.is_(True)))
    if target is None:
        raise LookupError(f"no active user {username!r}")
    target_principal = Principal("user", target.username, target.org_unit_id, target.role, user_id=target.id)
    if target.role not in (item.role, "admin") or not can_see(session, target_principal, item.org_unit_id):
        raise NotAllowed(f"{username} is not in this task's candidate group and org unit.")
    item.assignee_id = target.id
    _note(session, item, principal, "reassigned", to=username)
    return item


def _note(session: Session, item: WorkItem, principal: Principal, kind: str, **detail: Any) -> None:
    instance = session.get(ProcessInstance, item.instance_id)
    assert instance is not None
    record_event(session, instance, kind, principal.actor, bpmn_id=item.bpmn_id, name=item.name, **detail)
    record(
        session,
        principal.actor,
        kind,
        "work_item",
        str(item.id),
        None,
        {"assignee_id": item.assignee_id, **detail},
    )


def check_form(item: WorkItem, values: dict[str, Any]) -> dict[str, Any]:
    errors = forms.validate(item.form_schema, values)
    if errors:
        raise FormInvalid(errors)
    return forms.complete_values(item.form_schema, values)


def complete(
    session: Session,
    principal: Principal,
    item_id: int,
    values: dict[str, Any],
    expected_version: int | None = None,
) -> WorkItem:
    """Validate the form, then complete the user task and advance its instance (locked)."""
    item = get_item(session, principal, item_id)
    data = check_form(item, values)
    # Lock order: instance, then item (the same order as every other writer).
    instance = lock_instance(session, item.instance_id)
    if expected_version is not None and instance.version != expected_version:
        raise ProcessConflict(
            "version_conflict",
            "Someone else changed this process instance since you opened the task; reload and try again.",
            instance_id=instance.id,
            expected_version=expected_version,
            current_version=instance.version,
        )
    # The instance's open items are locked with this one (after the instance, like every
    # writer); the advance takes them as they are instead of selecting them again.
    locked = list(
        session.scalars(
            select(WorkItem)
            .where(
                WorkItem.instance_id == instance.id, or_(WorkItem.status == "open", WorkItem.id == item_id)
            )
            .order_by(WorkItem.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    item = next(w for w in locked if w.id == item_id)
    if item.status != "open":
        raise ProcessConflict("task_closed", f"This task is already {item.status}.", work_item_id=item.id)
    if item.assignee_id not in (None, principal.user_id) and not is_supervisor_of(session, principal, item):
        raise ProcessConflict(
            "claimed_by_other", "Another person has claimed this task.", work_item_id=item.id
        )
    item.status, item.result = "completed", data
    item.completed_at, item.completed_by = datetime.now(UTC), principal.name
    item.assignee_id = item.assignee_id or principal.user_id
    event = CompleteUserTask(item.task_id, data)
    audit: list[AuditNote] = [("complete", "work_item", str(item.id), data)]
    advance_locked(
        session, instance, event, principal.actor, expected_version, open_items=locked, audit=audit
    )
    _route_sent_back(session, principal, instance.id, item)
    return item


def sent_back_from(session: Session, item: WorkItem) -> WorkItem | None:
    """The earlier completion of the same step in the same instance, if this item is a second
    round (a supervisor sent the work back)."""
    return session.scalar(
        select(WorkItem)
        .where(
            WorkItem.instance_id == item.instance_id,
            WorkItem.bpmn_id == item.bpmn_id,
            WorkItem.status == "completed",
            WorkItem.id < item.id,
        )
        .order_by(WorkItem.id.desc())
        .limit(1)
    )


def _route_sent_back(session: Session, principal: Principal, instance_id: int, done: WorkItem) -> None:
    """A step that opens again goes to the person who did it last time, not back to the pool."""
    session.flush()
    reopened = session.scalars(
        select(WorkItem).where(
            WorkItem.instance_id == instance_id,
            WorkItem.status == "open",
            WorkItem.assignee_id.is_(None),
            WorkItem.id > done.id,
        )
    ).all()
    for item in reopened:
        previous = sent_back_from(session, item)
        if previous is None or previous.assignee_id is None:
            continue
        officer = session.get(User, previous.assignee_id)
        if officer is None or not officer.is_active:
            continue
        item.assignee_id = officer.id
        _note(session, item, principal, "sent_back", to=officer.username)


def bulk_action(session: Session, principal: Principal, item_ids: list[int], action: str) -> list[WorkItem]:
    """Approve or reject several tasks of one kind with the values the BPMN file declares."""
    if not item_ids:
        raise ValueError("select at least one task")
    items = [get_item(session, principal, i) for i in item_ids]
    kinds = {(i.process_id, i.bpmn_id) for i in items}
    if len(kinds) != 1:
        raise ValueError("bulk actions need tasks of one kind (the same step of the same process)")
    first = items[0]
    instance = session.get(ProcessInstance, first.instance_id)
    assert instance is not None
    definition = workflows().library.get(first.process_id, instance.spec_hash)
    info = definition.user_tasks.get(first.bpmn_id)
    values = info.bulk_actions.get(action) if info else None
    if values is None:
        raise ValueError(f"the step {first.name!r} does not allow bulk {action}")
    return [complete(session, principal, i.id, dict(values)) for i in items]


def open_item_for(session: Session, principal: Principal, instance_id: int, bpmn_id: str) -> WorkItem | None:
    """The open work item of a task of an instance, if this person may see it."""
    return session.scalar(
        visible_items(principal).where(
            WorkItem.instance_id == instance_id, WorkItem.bpmn_id == bpmn_id, WorkItem.status == "open"
        )
    )
