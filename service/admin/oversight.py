"""Admin pages over the whole discom: the audit log (filter by who, what, record, IST dates) and
the background jobs (each queue's counts, failed jobs with their error, requeue).

Neither audit entries nor RQ jobs carry an org unit, so both pages are for a discom-wide admin
(an admin whose org unit is the top of the tree); an admin lower down gets 403.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from sqlalchemy import Select, select
from werkzeug.wrappers import Response

from service.audit import AuditEntry
from service.audit.log import record
from service.auth.principal import for_user
from service.auth.views import role_required
from service.extensions import db
from service.orgs import OrgUnit
from service.queues import ALL_QUEUES, get_queue, redis_conn
from service.unit_of_work import unit_of_work
from service.web import lists
from service.web.times import ist_day_bounds

bp = Blueprint("admin_oversight", __name__, template_folder="templates")

AUDIT = lists.ListSpec(
    name="audit",
    sorts={
        "at": (AuditEntry.at, True),
        "actor": (AuditEntry.actor, False),
        "action": (AuditEntry.action, False),
    },
    default_sort="at",
    tiebreak=AuditEntry.id.desc(),
    columns=(
        lists.Column("When (IST)", lambda e: e.at),
        lists.Column("Actor kind", lambda e: e.actor_kind),
        lists.Column("Who", lambda e: e.actor),
        lists.Column("What", lambda e: e.action),
        lists.Column("Record", lambda e: e.entity),
        lists.Column("Record key", lambda e: e.entity_key),
        lists.Column("Before", lambda e: e.before),
        lists.Column("After", lambda e: e.after),
    ),
    filters={
        "who": "Who",
        "what": "What",
        "entity": "Record",
        "key": "Record key",
        "from": "From",
        "to": "To",
    },
)
FAILED_SHOWN = 200  # failed jobs listed per queue, newest first; the count shows the rest


def _discom_wide_admin() -> None:
    org_id = current_user.org_unit_id
    if org_id is not None and db.session.scalar(select(OrgUnit.parent_id).where(OrgUnit.id == org_id)):
        abort(403)


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def bad_days(args: Any) -> list[str]:
    """The exact complaint for each date filter that is not a day (that filter is then not used)."""
    return [
        f"{label}: {args[name][:32]!r} is not a date (YYYY-MM-DD); it was not used."
        for name, label in (("from", "From"), ("to", "To"))
        if args.get(name) and _day(args.get(name)) is None
    ]


def audit_query(args: Any) -> Select[Any]:
    """The audit log filtered by who (actor), what (action), record (entity, key) and IST days."""
    stmt = select(AuditEntry)
    if who := (args.get("who") or "").strip()[:128]:
        stmt = stmt.where(AuditEntry.actor.icontains(who, autoescape=True))
    if what := (args.get("what") or "").strip()[:64]:
        stmt = stmt.where(AuditEntry.action.istartswith(what, autoescape=True))
    if entity := (args.get("entity") or "").strip()[:64]:
        stmt = stmt.where(AuditEntry.entity == entity)
    if key := (args.get("key") or "").strip()[:128]:
        stmt = stmt.where(AuditEntry.entity_key == key)
    if start := _day(args.get("from")):
        stmt = stmt.where(AuditEntry.at >= ist_day_bounds(start)[0])
    if end := _day(args.get("to")):
        stmt = stmt.where(AuditEntry.at < ist_day_bounds(end)[1])
    return stmt


@bp.get("/admin/audit")
@role_required("admin")
def audit() -> Any:
    from service.web.views import list_export

    _discom_wide_admin()
    for problem in bad_days(request.args):
        flash(problem, "error")
    stmt = audit_query(request.args)
    if request.args.get("export"):
        return list_export(AUDIT, stmt)
    lp = lists.read_page(db.session(), AUDIT, stmt, request.args, url_for("admin_oversight.audit"))
    entities = db.session.scalars(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)).all()
    return render_template("admin/audit.html", lp=lp, entities=entities)


def _failed(name: str) -> tuple[int, list[dict[str, Any]]]:
    """How many jobs failed on `name`, and the newest FAILED_SHOWN with their error."""
    registry = get_queue(name).failed_job_registry
    ids = registry.get_job_ids(0, FAILED_SHOWN - 1, desc=True)
    shown = []
    for job in Job.fetch_many(ids, connection=redis_conn()):
        if job is None:
            continue
        result = job.latest_result()
        error = (result.exc_string or "") if result is not None else ""
        lines = [line for line in error.strip().splitlines() if line.strip()]
        shown.append(
            {"id": job.id, "func": job.func_name, "ended_at": job.ended_at,
             "error_line": lines[-1] if lines else "", "error": error}
        )  # fmt: skip
    return registry.count, shown


@bp.get("/admin/jobs")
@role_required("admin")
def jobs() -> Any:
    _discom_wide_admin()
    queues = []
    for name in ALL_QUEUES:
        queue = get_queue(name)
        failed_count, failed = _failed(name)
        queues.append(
            {
                "name": name,
                "queued": queue.count,
                "started": queue.started_job_registry.count,
                "scheduled": queue.scheduled_job_registry.count,
                "finished": queue.finished_job_registry.count,
                "failed": failed_count,
                "failed_jobs": failed,
            }
        )
    return render_template("admin/jobs.html", queues=queues, shown=FAILED_SHOWN)


@bp.post("/admin/jobs/<queue_name>/<job_id>/requeue")
@role_required("admin")
def requeue(queue_name: str, job_id: str) -> Response:
    """A failed job back on its queue (audited); the worker runs it again as it was enqueued."""
    _discom_wide_admin()
    if queue_name not in ALL_QUEUES:
        abort(404)
    registry = get_queue(queue_name).failed_job_registry
    key = job_id[:64]
    with unit_of_work(db.session()) as uow:
        try:
            job = Job.fetch(key, connection=redis_conn())
            func_name = job.func_name
            record(uow.session, for_user(current_user).actor, "job.requeue", "rq_job", key,
                   after={"queue": queue_name, "func": func_name})  # fmt: skip
            registry.requeue(job)  # refused (not failed here) -> the audit entry rolls back
        except (NoSuchJobError, InvalidJobOperation):
            flash(f"Job {key} is not among the failed jobs of {queue_name} (already requeued?).", "error")
            return redirect(url_for("admin_oversight.jobs"))
        uow.commit()
    flash(f"Job {key} ({func_name}) requeued on {queue_name}.", "ok")
    return redirect(url_for("admin_oversight.jobs"))
