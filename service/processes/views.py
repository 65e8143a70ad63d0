"""Pages: the work queue, a task with its form, history and diagram; process instances for admins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from werkzeug.wrappers import Response

from service.auth.models import User
from service.auth.principal import Principal, for_user
from service.auth.scoping import can_see, visible_org_units
from service.auth.views import role_required
from service.extensions import db
from service.masterdata.models import OrgUnit
from service.processes import incidents, queue
from service.processes.library import definition_for, workflows
from service.processes.models import Incident, ProcessEvent, ProcessInstance, SavedFilter, WorkItem
from service.processes.runtime import ProcessConflict
from service.unit_of_work import unit_of_work
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


@bp.get("/work", endpoint="queue")
@role_required(*WORKER_ROLES)
def queue_page() -> str:
    principal = _principal()
    f = queue.QueueFilter.from_args(request.args)
    items = queue.list_items(db.session(), principal, f)
    saved = db.session.scalars(
        select(SavedFilter).where(SavedFilter.user_id == principal.user_id).order_by(SavedFilter.name)
    ).all()
    visible = queue.visible_items(principal).subquery()
    kinds = db.session.execute(
        select(visible.c.process_id, visible.c.bpmn_id, visible.c.name).distinct().order_by(visible.c.name)
    ).all()
    return render_template(
        "processes/queue.html",
        items=items,
        f=f,
        saved=saved,
        kinds=kinds,
        processes=sorted(workflows().library.current),
        org_codes=_org_codes({i.org_unit_id for i in items}),
        now=datetime.now(UTC),
        query=request.query_string.decode()[:1000],
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
    existing = db.session.scalar(
        select(SavedFilter).where(SavedFilter.user_id == principal.user_id, SavedFilter.name == name)
    )
    if existing is None:
        db.session.add(SavedFilter(user_id=principal.user_id, name=name, query=query))
    else:
        existing.query = query
    db.session.commit()
    flash(f"Filter {name!r} saved.", "info")
    return redirect(url_for("processes.queue") + ("?" + query if query else ""))


@bp.post("/work/filters/<int:filter_id>/delete")
@role_required(*WORKER_ROLES)
def delete_filter(filter_id: int) -> Response:
    saved = db.session.get(SavedFilter, filter_id)
    if saved is None or saved.user_id != current_user.id:
        abort(404)
    db.session.delete(saved)
    db.session.commit()
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
    return render_template(
        "processes/task.html",
        item=item,
        instance=instance,
        fields=forms.fields_of(item.form_schema),
        values=values if values is not None else (item.result or {}),
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
    return redirect(request.form.get("next") or url_for("processes.task", item_id=item_id))


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


@bp.post("/work/bulk")
@role_required(*WORKER_ROLES)
def bulk() -> Response:
    action = request.form.get("action", "")
    ids = [int(v) for v in request.form.getlist("item") if v.isdigit()][:200]
    session = db.session()
    if action not in ("approve", "reject"):
        flash("Choose approve or reject.", "error")
        return redirect(url_for("processes.queue"))
    with unit_of_work(session) as uow:
        try:
            done = queue.bulk_action(session, _principal(), ids, action)
            uow.commit()
            flash(f"{len(done)} task(s) {'approved' if action == 'approve' else 'rejected'}.", "info")
        except (ValueError, LookupError, queue.FormInvalid) as exc:
            flash(str(exc), "error")
        except ProcessConflict as exc:
            flash(f"Nothing done: {exc}", "error")
    return redirect(
        url_for("processes.queue") + ("?" + request.form["query"] if request.form.get("query") else "")
    )


# Admin pages -------------------------------------------------------------------------------
def _admin_scope(stmt: Any, principal: Principal) -> Any:
    """Instances of the admin's org subtree, and system processes that belong to no org unit."""
    visible = visible_org_units(principal)
    if visible is None:
        return stmt
    return stmt.where(or_(ProcessInstance.org_unit_id.is_(None), ProcessInstance.org_unit_id.in_(visible)))


@bp.get("/processes")
@role_required("admin")
def instances() -> str:
    principal = _principal()
    status = request.args.get("status", "")
    process = request.args.get("process", "")
    stmt = _admin_scope(select(ProcessInstance), principal)
    if status:
        stmt = stmt.where(ProcessInstance.status == status)
    if process:
        stmt = stmt.where(ProcessInstance.process_id == process)
    rows = db.session.scalars(stmt.order_by(ProcessInstance.id.desc()).limit(200)).all()
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
        rows=rows,
        counts=counts,
        status=status,
        process=process,
        processes=sorted(workflows().library.current),
        org_codes=_org_codes({r.org_unit_id for r in rows}),
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
