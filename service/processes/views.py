"""Pages: the work queue, a task with its form, history and diagram; process instances for admins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from service.auth import User
from service.auth.principal import Principal, for_user
from service.auth.redirects import safe_next
from service.auth.scoping import can_see, visible_org_units
from service.auth.views import role_required
from service.extensions import db
from service.orgs import OrgUnit
from service.processes import incidents, queue
from service.processes.context import task_context
from service.processes.library import definition_for, workflows
from service.processes.models import Incident, ProcessEvent, ProcessInstance, SavedFilter, WorkItem
from service.processes.runtime import ProcessConflict
from service.unit_of_work import unit_of_work
from service.web import lists
from service.web.views import list_export
from workflows import forms
from workflows.diagram import render_svg

bp = Blueprint(
    "processes",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/processes-static",
)
WORKER_ROLES = ("field_officer", "control_centre")


def _principal() -> Principal:
    return for_user(current_user)


def _org_codes(ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(
        db.session.execute(select(OrgUnit.id, OrgUnit.code).where(OrgUnit.id.in_(wanted))).tuples().all()
    )


def _queue_spec(org_codes: dict[int, str], usernames: dict[int, str]) -> lists.ListSpec:
    return lists.ListSpec(
        name="work-items",
        sorts={
            "due": (WorkItem.due_at, False),
            "created": (WorkItem.created_at, True),
            "priority": (WorkItem.priority, True),
            "task": (WorkItem.name, False),
            "key": (WorkItem.business_key, False),
        },
        default_sort="due",
        tiebreak=WorkItem.id,
        columns=(
            lists.Column("Task id", lambda w: w.id),
            lists.Column("Task", lambda w: w.name),
            lists.Column("Process", lambda w: w.process_id),
            lists.Column("Business key", lambda w: w.business_key),
            lists.Column("Org unit", lambda w: org_codes.get(w.org_unit_id)),
            lists.Column("Status", lambda w: w.status),
            lists.Column("Due (IST)", lambda w: w.due_at),
            lists.Column("Priority", lambda w: w.priority),
            lists.Column("Claimed by", lambda w: usernames.get(w.assignee_id) if w.assignee_id else None),
            lists.Column("Created (IST)", lambda w: w.created_at),
            lists.Column("Completed by", lambda w: w.completed_by),
        ),
        filters={
            "scope": "Show",
            "process": "Process",
            "task": "Task",
            "org_unit": "Org unit",
            "due": "Due",
            "status": "Status",
            "q": "Text",
        },  # fmt: skip
        defaults={"scope": "group", "status": "open"},
    )


def _visible_org_codes(principal: Principal) -> dict[int, str]:
    stmt = select(OrgUnit.id, OrgUnit.code)
    visible = visible_org_units(principal)
    if visible is not None:
        stmt = stmt.where(OrgUnit.id.in_(visible))
    return dict(db.session.execute(stmt).tuples().all())


def _usernames(ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(wanted))).tuples().all())


@bp.get("/work", endpoint="queue")
@role_required(*WORKER_ROLES)
def queue_page() -> Any:
    principal = _principal()
    f = queue.QueueFilter.from_args(request.args)
    now = datetime.now(UTC)
    stmt = queue.filtered_items(db.session(), principal, f, now)
    if request.args.get("export"):
        spec = _queue_spec(_visible_org_codes(principal), _usernames(set(db.session.scalars(
            stmt.with_only_columns(WorkItem.assignee_id).distinct()))))  # fmt: skip
        return list_export(spec, stmt)
    lp = lists.read_page(db.session(), _queue_spec({}, {}), stmt, request.args, url_for("processes.queue"))
    kinds_here = db.session.execute(
        stmt.with_only_columns(WorkItem.process_id, WorkItem.bpmn_id, WorkItem.name).distinct().limit(2)
    ).all()
    saved = db.session.scalars(
        select(SavedFilter).where(SavedFilter.user_id == principal.user_id).order_by(SavedFilter.name)
    ).all()
    visible = queue.visible_items(principal).subquery()
    kinds = db.session.execute(
        select(visible.c.process_id, visible.c.bpmn_id, visible.c.name).distinct().order_by(visible.c.name)
    ).all()
    return render_template(
        "processes/queue.html",
        lp=lp,
        items=lp.rows,
        f=f,
        saved=saved,
        kinds=kinds,
        one_kind=kinds_here[0] if len(kinds_here) == 1 else None,
        processes=sorted(workflows().library.current),
        org_codes=_org_codes({i.org_unit_id for i in lp.rows}),
        now=now,
        query=lp.query[:1000],
    )


@bp.post("/work/filters")
@role_required(*WORKER_ROLES)
def save_filter() -> Response:
    principal = _principal()
    name = request.form.get("name", "").strip()[:100]
    query = request.form.get("query", "")[:1000]
    if not name:
        flash("Give the filter a name.", "error")
        return redirect(url_for("processes.queue") + ("?" + query if query else ""))
    with unit_of_work() as uow:
        existing = uow.session.scalar(
            select(SavedFilter).where(SavedFilter.user_id == principal.user_id, SavedFilter.name == name)
        )
        if existing is None:
            uow.session.add(SavedFilter(user_id=principal.user_id, name=name, query=query))
        else:
            existing.query = query
        uow.commit()
    flash(f"Filter {name!r} saved.", "info")
    return redirect(url_for("processes.queue") + ("?" + query if query else ""))


@bp.post("/work/filters/<int:filter_id>/delete")
@role_required(*WORKER_ROLES)
def delete_filter(filter_id: int) -> Response:
    with unit_of_work() as uow:
        saved = uow.session.get(SavedFilter, filter_id)
        if saved is None or saved.user_id != current_user.id:
            abort(404)
        uow.session.delete(saved)
        uow.commit()
    return redirect(url_for("processes.queue"))


def _item_or_404(item_id: int) -> WorkItem:
    try:
        return queue.get_item(db.session(), _principal(), item_id)
    except LookupError:
        abort(404)


def _history(instance_id: int) -> list[ProcessEvent]:
    return list(
        db.session.scalars(
            select(ProcessEvent).where(ProcessEvent.instance_id == instance_id).order_by(ProcessEvent.id)
        )
    )


def _diagram(instance: ProcessInstance, history: list[ProcessEvent]) -> str:
    definition = definition_for(db.session(), instance.process_id, instance.spec_hash)
    open_items = db.session.scalars(
        select(WorkItem.bpmn_id).where(WorkItem.instance_id == instance.id, WorkItem.status == "open")
    ).all()
    current = set(open_items) | {e.bpmn_id for e in history if e.kind == "task_started"}
    completed = {e.bpmn_id for e in history if e.kind == "task_completed"}
    current -= completed - set(open_items)
    failed = set(
        db.session.scalars(
            select(Incident.bpmn_id).where(Incident.instance_id == instance.id, Incident.status == "open")
        ).all()
    )
    return render_svg(
        definition.xml, current=current, completed=completed, failed=failed, title=definition.name
    )


@bp.get("/work/<int:item_id>")
@role_required(*WORKER_ROLES)
def task(
    item_id: int, errors: list[forms.FieldError] | None = None, values: dict[str, Any] | None = None
) -> str:
    principal = _principal()
    item = _item_or_404(item_id)
    instance = db.session.get(ProcessInstance, item.instance_id)
    assert instance is not None
    history = _history(instance.id)
    assignee = db.session.get(User, item.assignee_id) if item.assignee_id else None
    context = task_context(db.session(), principal, item)
    prefill = item.result or (context["sent_back"]["values"] if context["sent_back"] else {})
    return render_template(
        "processes/task.html",
        item=item,
        instance=instance,
        fields=forms.fields_of(item.form_schema),
        values=values if values is not None else prefill,
        **context,
        errors={e.field: e.message for e in (errors or [])},
        history=history,
        diagram=_diagram(instance, history),
        assignee=assignee,
        supervisor=queue.is_supervisor_of(db.session(), principal, item),
        org_codes=_org_codes({item.org_unit_id}),
        now=datetime.now(UTC),
    )


def _act(item_id: int, action: str) -> Response:
    principal = _principal()
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            if action == "claim":
                queue.claim(session, principal, item_id)
                message = "Task claimed: it is in your queue."
            elif action == "unclaim":
                queue.unclaim(session, principal, item_id)
                message = "Task released to the group."
            else:
                username = request.form.get("username", "").strip()
                queue.reassign(session, principal, item_id, username)
                message = f"Task reassigned to {username}."
            uow.commit()
            flash(message, "info")
        except (LookupError, ProcessConflict, queue.NotAllowed) as exc:
            flash(str(exc), "error")
    return redirect(safe_next(request.form.get("next"), url_for("processes.task", item_id=item_id)))


@bp.post("/work/<int:item_id>/claim")
@role_required(*WORKER_ROLES)
def claim(item_id: int) -> Response:
    return _act(item_id, "claim")


@bp.post("/work/<int:item_id>/unclaim")
@role_required(*WORKER_ROLES)
def unclaim(item_id: int) -> Response:
    return _act(item_id, "unclaim")


@bp.post("/work/<int:item_id>/reassign")
@role_required(*WORKER_ROLES)
def reassign(item_id: int) -> Response:
    return _act(item_id, "reassign")


@bp.post("/work/<int:item_id>/complete")
@role_required(*WORKER_ROLES)
def complete(item_id: int) -> Any:
    item = _item_or_404(item_id)
    values, errors = forms.coerce(item.form_schema, request.form)
    version = request.form.get("version", type=int)
    session = db.session()
    if not errors:
        conflict: str | None = None
        with unit_of_work(session) as uow:
            try:
                queue.complete(session, _principal(), item_id, values, version)
                uow.commit()
                flash(f"{item.name} done.", "info")
                return redirect(url_for("processes.queue"))
            except queue.FormInvalid as exc:
                errors = exc.errors
            except ProcessConflict as exc:
                conflict = str(exc)
        if conflict is not None:
            flash(conflict, "error")
            return task(item_id, values=values), 409
    flash("Please correct the marked fields.", "error")
    return task(item_id, errors=errors, values=values), 422


MAX_BULK = 1000  # one request completes at most this many tasks (one transaction)


def _queue_back(query: str) -> Response:
    return redirect(url_for("processes.queue") + ("?" + query if query else ""))


@bp.post("/work/bulk")
@role_required(*WORKER_ROLES)
def bulk() -> Any:
    action = request.form.get("action", "")
    query = request.form.get("query", "")[:1000]
    session = db.session()
    if action not in ("approve", "reject"):
        flash("Choose approve or reject.", "error")
        return _queue_back(query)
    if request.values.get("all_matching"):
        return _bulk_all_matching(action, query)
    ids = [int(v) for v in request.form.getlist("item") if v.isdigit()][:MAX_BULK]
    _bulk_run(session, ids, action)
    return _queue_back(query)


def _bulk_run(session: Any, ids: list[int], action: str) -> bool:
    with unit_of_work(session) as uow:
        try:
            done = queue.bulk_action(session, _principal(), ids, action)
            uow.commit()
            flash(f"{len(done)} task(s) {'approved' if action == 'approve' else 'rejected'}.", "info")
            return True
        except (ValueError, LookupError, queue.FormInvalid) as exc:
            flash(str(exc), "error")
        except ProcessConflict as exc:
            flash(f"Nothing done: {exc}", "error")
    return False


def _bulk_all_matching(action: str, query: str) -> Any:
    """Select-all-matching: the filter is evaluated again here, shown with its count to confirm,
    and run only if the count is still the one the person confirmed."""
    session = db.session()
    principal = _principal()
    f = queue.QueueFilter.from_args(MultiDict(parse_qsl(query)))
    if f.status != "open":
        flash("Bulk actions work on open tasks: set Status to Open.", "error")
        return _queue_back(query)
    stmt = queue.filtered_items(session, principal, f, datetime.now(UTC))
    kinds = session.execute(
        stmt.with_only_columns(WorkItem.process_id, WorkItem.bpmn_id, WorkItem.name).distinct().limit(2)
    ).all()
    total = lists.count(session, stmt)
    if len(kinds) != 1:
        flash("Filter the list to one kind of task (Task) before acting on all matching.", "error")
        return _queue_back(query)
    if total > MAX_BULK:
        flash(f"{total} tasks match; at most {MAX_BULK} at once. Narrow the filter.", "error")
        return _queue_back(query)
    expected = request.form.get("expected", type=int)
    if request.form.get("confirm") and expected == total:
        ids = lists.matching_ids(session, WorkItem.id, stmt, MAX_BULK)
        _bulk_run(session, ids, action)
        return _queue_back(query)
    if request.form.get("confirm"):
        flash(f"The list changed while you confirmed: {total} tasks match now.", "error")
    return render_template(
        "processes/bulk_confirm.html", action=action, query=query, total=total, kind=kinds[0], f=f
    )


# Admin pages -------------------------------------------------------------------------------
def _admin_scope(stmt: Any, principal: Principal) -> Any:
    """Instances of the admin's org subtree, and system processes that belong to no org unit."""
    visible = visible_org_units(principal)
    if visible is None:
        return stmt
    return stmt.where(or_(ProcessInstance.org_unit_id.is_(None), ProcessInstance.org_unit_id.in_(visible)))


def _instances_spec(org_codes: dict[int, str]) -> lists.ListSpec:
    return lists.ListSpec(
        name="instances",
        sorts={
            "id": (ProcessInstance.id, True),
            "started": (ProcessInstance.started_at, True),
            "process": (ProcessInstance.process_id, False),
            "key": (ProcessInstance.business_key, False),
            "status": (ProcessInstance.status, False),
        },
        default_sort="id",
        tiebreak=ProcessInstance.id,
        columns=(
            lists.Column("Id", lambda r: r.id),
            lists.Column("Process", lambda r: r.process_id),
            lists.Column("Business key", lambda r: r.business_key),
            lists.Column("Org unit", lambda r: org_codes.get(r.org_unit_id)),
            lists.Column("Status", lambda r: r.status),
            lists.Column("Started (IST)", lambda r: r.started_at),
            lists.Column("Started by", lambda r: r.started_by),
            lists.Column("Ended (IST)", lambda r: r.ended_at),
            lists.Column("Error", lambda r: r.error),
        ),
        filters={"status": "Status", "process": "Process", "q": "Business key"},
    )


@bp.get("/processes")
@role_required("admin")
def instances() -> Any:
    principal = _principal()
    status = request.args.get("status", "")[:20]
    process = request.args.get("process", "")[:100]
    key = request.args.get("q", "").strip()[:100]
    stmt = _admin_scope(select(ProcessInstance), principal)
    if status:
        stmt = stmt.where(ProcessInstance.status == status)
    if process:
        stmt = stmt.where(ProcessInstance.process_id == process)
    if key:
        stmt = stmt.where(ProcessInstance.business_key == key)
    if request.args.get("export"):
        return list_export(_instances_spec(_visible_org_codes(principal)), stmt)
    lp = lists.read_page(
        db.session(), _instances_spec({}), stmt, request.args, url_for("processes.instances")
    )
    counts = dict(
        db.session.execute(
            _admin_scope(
                select(ProcessInstance.status, func.count()).group_by(ProcessInstance.status), principal
            )
        )
        .tuples()
        .all()
    )
    return render_template(
        "processes/instances.html",
        lp=lp,
        counts=counts,
        status=status,
        process=process,
        processes=sorted(workflows().library.current),
        org_codes=_org_codes({r.org_unit_id for r in lp.rows}),
    )


@bp.get("/processes/<int:instance_id>")
@role_required("admin")
def instance(instance_id: int) -> str:
    found = db.session.get(ProcessInstance, instance_id)
    if found is None or (
        found.org_unit_id is not None and not can_see(db.session(), _principal(), found.org_unit_id)
    ):
        abort(404)
    history = _history(found.id)
    return render_template(
        "processes/instance.html",
        instance=found,
        history=history,
        diagram=_diagram(found, history),
        incidents=db.session.scalars(
            select(Incident).where(Incident.instance_id == found.id).order_by(Incident.id.desc())
        ).all(),
        items=db.session.scalars(
            select(WorkItem).where(WorkItem.instance_id == found.id).order_by(WorkItem.id)
        ).all(),
        org_codes=_org_codes({found.org_unit_id}),
    )


@bp.post("/processes/incidents/<int:incident_id>/<action>")
@role_required("admin")
def incident_action(incident_id: int, action: str) -> Response:
    found = db.session.get(Incident, incident_id)
    if found is None or action not in ("retry", "skip"):
        abort(404)
    instance_id = found.instance_id
    session = db.session()
    principal = _principal()
    owner = session.get(ProcessInstance, instance_id)
    # An admin of one circle answers only its own incidents (as instance() shows only its own).
    if owner is None or (
        owner.org_unit_id is not None and not can_see(session, principal, owner.org_unit_id)
    ):
        abort(404)
    with unit_of_work(session) as uow:
        try:
            if action == "retry":
                incidents.retry_incident(session, incident_id, principal.actor)
            else:
                incidents.skip_incident(session, incident_id, principal.actor)
            uow.commit()
            flash(f"Incident {incident_id}: {action} done.", "info")
        except (ProcessConflict, LookupError, ValueError) as exc:
            flash(str(exc), "error")
    return redirect(url_for("processes.instance", instance_id=instance_id))


def queue_url(**changes: Any) -> str:
    args = {k: v for k, v in request.args.items() if v}
    args.update(dict(changes.items()))
    return url_for("processes.queue") + "?" + urlencode({k: v for k, v in args.items() if v})


@bp.app_template_global("queue_url")
def _queue_url(**changes: Any) -> str:
    return queue_url(**changes)
