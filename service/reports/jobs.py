"""RQ jobs of the reports (each owns its transaction); safe to run twice."""

from __future__ import annotations

from datetime import UTC, datetime

from service.extensions import db
from service.queues import BULK, get_queue
from service.reports import runs
from service.reports.running import today_ist


def execute_run(run_id: int, today: str | None = None) -> str:
    from datetime import date

    session = db.session()
    try:
        outcome = runs.execute_run(session, run_id, date.fromisoformat(today) if today else today_ist())
        session.commit()
        return outcome
    except Exception:
        session.rollback()
        raise
    finally:
        db.session.remove()


def enqueue_run(run_id: int) -> None:
    get_queue(BULK).enqueue(execute_run, run_id, job_id=f"report-run-{run_id}")


def schedules_due(now: str | None = None) -> int:
    """Periodic: create the due scheduled runs, then queue every run still queued."""
    moment = datetime.fromisoformat(now) if now else datetime.now(UTC)
    session = db.session()
    try:
        runs.due_runs(session, today_ist(moment))
        session.commit()
        queued = runs.queued_run_ids(session)
        session.rollback()
    except Exception:
        session.rollback()
        raise
    finally:
        db.session.remove()
    for run_id in queued:
        enqueue_run(run_id)
    return len(queued)
