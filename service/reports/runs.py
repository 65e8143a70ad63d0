"""Report runs kept for download: asked for by a person (run now) or due on a schedule
(daily: yesterday; monthly: last month), run by RQ with the asker's org scope, audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.audit.log import Actor, record
from service.auth.principal import Principal
from service.auth.scoping import scope_to_org
from service.reports import export, registry, running
from service.reports.models import FREQUENCIES, ReportRun, ReportSchedule


def principal_of(run: ReportRun) -> Principal:
    kind, _, name = run.requested_by.partition(":")
    return Principal(kind=kind or "user", name=name or run.requested_by, org_unit_id=run.org_unit_id)


def request_run(
    session: Session, principal: Principal, report: registry.Report, values: dict[str, str]
) -> int:
    """A manual run, queued; the caller enqueues `execute_run` after commit."""
    run_id = session.scalar(
        insert(ReportRun)
        .values(
            report=report.name,
            params=values,
            trigger="manual",
            org_unit_id=principal.org_unit_id,
            requested_by=f"{principal.kind}:{principal.name}",
            status="queued",
        )
        .returning(ReportRun.id)
    )
    assert run_id is not None
    record(session, principal.actor, "report.run_requested", "report_run", str(run_id), None,
           {"report": report.name, "params": values})  # fmt: skip
    return int(run_id)


def execute_run(session: Session, run_id: int, today: date) -> str:
    """Produce a queued run's CSV (idempotent: a finished run is left as it is)."""
    run = session.scalar(select(ReportRun).where(ReportRun.id == run_id).with_for_update(skip_locked=True))
    if run is None or run.status != "queued":
        return "skipped"
    report = registry.get(run.report)
    principal = principal_of(run)
    try:
        if report is None:
            raise running.ParameterError({"report": f"unknown report {run.report!r}"})
        resolved = running.resolve(session, report, run.params, principal, today)
        data, count = export.csv_gzip(report, running.stream(session, report, resolved, principal))
    except running.ParameterError as exc:
        run.status, run.error, run.finished_at = "failed", str(exc), datetime.now(UTC)
        record(session, Actor("system", "reports"), "report.run_failed", "report_run", str(run_id),
               None, {"error": str(exc)})  # fmt: skip
        return "failed"
    run.status, run.csv_gzip, run.row_count, run.finished_at = "done", data, count, datetime.now(UTC)
    record(session, Actor("system", "reports"), "report.run", "report_run", str(run_id), None,
           {"report": run.report, "params": run.params, "rows": count, "for": run.requested_by})  # fmt: skip
    return "done"


def visible_runs(session: Session, principal: Principal, page_no: int, page_size: int) -> dict[str, Any]:
    """Runs whose scope lies at or below the principal's org unit, newest first."""
    stmt = scope_to_org(select(ReportRun), ReportRun.org_unit_id, principal)
    if principal.org_unit_id is not None:
        stmt = stmt.where(ReportRun.org_unit_id.is_not(None))
    from sqlalchemy import func

    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(ReportRun.id.desc()).limit(page_size).offset((page_no - 1) * page_size)
    ).all()
    return {"items": list(rows), "total": int(total), "pages": max(1, -(-int(total) // page_size))}


def visible_run(session: Session, principal: Principal, run_id: int) -> ReportRun | None:
    stmt = scope_to_org(select(ReportRun).where(ReportRun.id == run_id), ReportRun.org_unit_id, principal)
    run = session.scalar(stmt)
    if run is not None and principal.org_unit_id is not None and run.org_unit_id is None:
        return None
    return run


def create_schedule(
    session: Session, principal: Principal, report: registry.Report, values: dict[str, str], frequency: str
) -> int:
    if frequency not in FREQUENCIES:
        raise running.ParameterError({"frequency": f"one of {', '.join(FREQUENCIES)}"})
    keep = {k: v for k, v in values.items() if k not in ("period", "day")}
    schedule_id = session.scalar(
        insert(ReportSchedule)
        .values(
            report=report.name,
            params=keep,
            frequency=frequency,
            org_unit_id=principal.org_unit_id,
            created_by=f"{principal.kind}:{principal.name}",
        )
        .returning(ReportSchedule.id)
    )
    assert schedule_id is not None
    record(session, principal.actor, "report.schedule", "report_schedule", str(schedule_id), None,
           {"report": report.name, "params": keep, "frequency": frequency})  # fmt: skip
    return int(schedule_id)


def due_runs(session: Session, today: date) -> list[int]:
    """Runs for every schedule whose day (daily: yesterday) or month (monthly: last month) has not
    been produced; one run per schedule and period even when called twice. Returns new run ids."""
    yesterday = today - timedelta(days=1)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    created: list[int] = []
    for s in session.scalars(select(ReportSchedule).where(ReportSchedule.active).with_for_update()):
        report = registry.get(s.report)
        if report is None:
            continue
        run_for = yesterday if s.frequency == "daily" else last_month
        if s.last_run_for is not None and s.last_run_for >= run_for:
            continue
        params = dict(s.params)
        kinds = {p.kind: p.name for p in report.params}
        if "day" in kinds:
            params[kinds["day"]] = run_for.isoformat()
        if "month" in kinds:
            params[kinds["month"]] = run_for.strftime("%Y-%m")
        run_id = session.scalar(
            insert(ReportRun)
            .values(
                report=s.report,
                params=params,
                trigger=s.frequency,
                schedule_id=s.id,
                org_unit_id=s.org_unit_id,
                requested_by=s.created_by,
                status="queued",
            )
            .on_conflict_do_nothing(index_elements=["schedule_id", "params"])
            .returning(ReportRun.id)
        )
        session.execute(update(ReportSchedule).where(ReportSchedule.id == s.id).values(last_run_for=run_for))
        if run_id is not None:
            created.append(int(run_id))
    return created


def queued_run_ids(session: Session, limit: int = 1000) -> list[int]:
    return list(
        session.scalars(
            text("SELECT id FROM report_runs WHERE status = 'queued' ORDER BY id LIMIT :n"), {"n": limit}
        )
    )
