"""The audit log page (filter by who, what, record and IST day; export) and the background jobs
page (counts per queue, failed jobs with their error, requeue audited), for a discom-wide admin."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import insert, select

from service.audit.log import Actor
from service.audit.models import AuditEntry
from service.auth.users import create_user
from service.extensions import db
from service.queues import get_queue, redis_conn
from tests.web.jobs_for_tests import needs_flag


def _entries() -> None:
    rows = [
        ("je_east11", "task.complete", "work_item", "41", datetime(2026, 12, 1, 18, 29, tzinfo=UTC)),  # 2 Dec 00:00 IST - 1
        ("je_east11", "task.claim", "work_item", "41", datetime(2026, 12, 1, 18, 30, tzinfo=UTC)),  # 2 Dec 00:00 IST
        ("ae_east1", "task.complete", "work_item", "42", datetime(2026, 12, 2, 2, 59, tzinfo=UTC)),
        ("admin", "user.create", "user", "je_new", datetime(2026, 12, 2, 18, 29, tzinfo=UTC)),
    ]  # fmt: skip
    db.session.execute(
        insert(AuditEntry),
        [
            {
                "actor_kind": "user",
                "actor": a,
                "action": w,
                "entity": e,
                "entity_key": k,
                "at": at,
                "after": {"n": i},
            }
            for i, (a, w, e, k, at) in enumerate(rows)
        ],  # fmt: skip
    )
    db.session.commit()


def _keys(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-entry-id="\d+"><td class="primary"><time[^>]*>([^<]+)</time>', html)


def test_audit_log_filters_by_who_what_record_and_ist_day(discom, login) -> None:
    db.session.execute(AuditEntry.__table__.delete())
    db.session.commit()
    _entries()
    admin = login("admin")
    page = admin.get("/admin/audit?who=je_east11").get_data(as_text=True)
    assert '<strong class="list-total">2</strong> entries' in page
    assert _keys(page) == ["02 Dec 2026 00:00:00 IST", "01 Dec 2026 23:59:00 IST"]  # newest first
    what = admin.get("/admin/audit?what=task.complete").get_data(as_text=True)
    assert '<strong class="list-total">2</strong> entries' in what
    record = admin.get("/admin/audit?entity=work_item&key=42").get_data(as_text=True)
    assert _keys(record) == ["02 Dec 2026 08:29:00 IST"]
    day = admin.get("/admin/audit?from=2026-12-02&to=2026-12-02").get_data(as_text=True)
    assert _keys(day) == ["02 Dec 2026 23:59:00 IST", "02 Dec 2026 08:29:00 IST", "02 Dec 2026 00:00:00 IST"]
    none = admin.get("/admin/audit?who=nobody").get_data(as_text=True)
    assert "No entries match" in none and "Who: nobody" in none
    bad = admin.get("/admin/audit?from=2026-13-01&who=je_east11").get_data(as_text=True)
    assert "From: &#39;2026-13-01&#39; is not a date (YYYY-MM-DD); it was not used." in bad
    assert '<strong class="list-total">2</strong> entries' in bad  # the other filters still hold
    exported = admin.get("/admin/audit?who=je_east11&export=csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["When (IST)", "Actor kind", "Who", "What"]
    assert [r[0] for r in rows[1:]] == ["2026-12-02T00:00:00+05:30", "2026-12-01T23:59:00+05:30"]


def test_an_admin_below_the_discom_and_other_roles_get_403(discom, login) -> None:
    create_user(db.session(), "admin_bplc", "long-enough-1", "admin", "BPLC", Actor("cli", "test"))
    db.session.commit()
    lower = login("admin_bplc", "long-enough-1")
    assert lower.get("/admin/audit").status_code == 403
    assert lower.get("/admin/jobs").status_code == 403
    analyst = login("analyst")
    assert analyst.get("/admin/audit").status_code == 403
    assert analyst.get("/admin/jobs").status_code == 403


def test_a_failed_job_is_shown_with_its_error_and_requeued(discom, login, csrf_token, run_jobs, app) -> None:
    flag = "test:oversight:flag"
    redis_conn(app).delete(flag)
    job = get_queue("bulk", app).enqueue(needs_flag, flag)
    run_jobs("bulk")
    admin = login("admin")
    page = admin.get("/admin/jobs").get_data(as_text=True)
    assert '<tr data-queue="bulk"><td>bulk</td><td class="queued">0</td>' in page
    assert f'data-job-id="{job.id}"' in page and "RuntimeError: flag test:oversight:flag is not set" in page
    token = csrf_token(page)
    redis_conn(app).set(flag, "1")
    done = admin.post(f"/admin/jobs/bulk/{job.id}/requeue", data={"csrf_token": token})
    assert done.status_code == 302
    after = admin.get("/admin/jobs").get_data(as_text=True)
    assert "requeued on bulk" in after and '<td class="queued">1</td>' in after
    assert f'data-job-id="{job.id}"' not in after
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "job.requeue"))
    assert (entry.actor, entry.entity_key, entry.after["func"]) == (
        "admin",
        job.id,
        "tests.web.jobs_for_tests.needs_flag",
    )
    again = admin.post(f"/admin/jobs/bulk/{job.id}/requeue", data={"csrf_token": token})
    assert "is not among the failed jobs of bulk" in admin.get(again.headers["Location"]).get_data(
        as_text=True
    )
    assert (
        db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "job.requeue").offset(1)) is None
    )
    assert run_jobs("bulk") == 1
    assert get_queue("bulk", app).fetch_job(job.id).get_status() == "finished"
    assert "No failed jobs on any queue." in admin.get("/admin/jobs").get_data(as_text=True)
    assert admin.post("/admin/jobs/nosuch/x/requeue", data={"csrf_token": token}).status_code == 404
