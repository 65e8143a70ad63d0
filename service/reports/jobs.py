"""RQ jobs of the reports (each owns its transaction); safe to run twice."""

from __future__ import annotations

from datetime import UTC, datetime

from service.queues import BULK, get_queue
from service.reports import runs
from service.reports.running import today_ist
from service.unit_of_work import unit_of_work


def execute_run(run_id: int, today: str | None = None) -> str:
    from datetime import date

    with unit_of_work(remove=True) as uow:
        outcome = runs.execute_run(uow.session, run_id, date.fromisoformat(today) if today else today_ist())
        uow.commit()
        return outcome


def enqueue_run(run_id: int) -> None:
    get_queue(BULK).enqueue(execute_run, run_id, job_id=f"report-run-{run_id}")


def schedules_due(now: str | None = None) -> int:
    """Periodic: create the due scheduled runs, then queue every run still queued."""
    moment = datetime.fromisoformat(now) if now else datetime.now(UTC)
    with unit_of_work(remove=True) as uow:
        runs.due_runs(uow.session, today_ist(moment))
        uow.commit()
        queued = runs.queued_run_ids(uow.session)
    for run_id in queued:
        enqueue_run(run_id)
    return len(queued)
