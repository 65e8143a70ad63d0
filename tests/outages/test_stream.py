"""The stream: each committed event batch queues a job that correlates its stored events through
durable_rules and writes outages as they arrive; the batch pass over the same stored events
reproduces them; a restoration closes the outage and tells its consumers (en/hi)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from service.outages.detection import rebuild

START = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
END = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock(app: Flask) -> Iterator[list[datetime]]:
    now = [datetime(2026, 12, 2, 7, 10, tzinfo=UTC)]  # 12:40 IST, outside quiet hours
    ports = app.extensions["cmdms.ports"]
    ports["clock"] = lambda: now[0]
    yield now
    ports["clock"] = None


def _outages(session: Any) -> list[tuple[Any, ...]]:
    session.rollback()  # see what the worker committed
    return session.execute(
        text(
            "SELECT level, subject, rule_id, to_char(started_at AT TIME ZONE 'UTC', 'HH24:MI:SS'),"
            " to_char(ended_at AT TIME ZONE 'UTC', 'HH24:MI:SS'), duration_s, consumers_affected,"
            " meters_reporting, feeder_code, dt_code, meter_id, org_unit_id FROM outages"
            " ORDER BY started_at, level, subject"
        )
    ).all()


def _members(session: Any) -> list[tuple[Any, ...]]:
    return session.execute(
        text(
            "SELECT o.level, o.subject, m.meter_id, m.off_at, m.on_at FROM outage_meters m"
            " JOIN outages o ON o.id = m.outage_id ORDER BY 1, 2, 3"
        )
    ).all()


def _restored(session: Any) -> list[tuple[Any, ...]]:
    return session.execute(
        text(
            "SELECT c.ivrs_number, n.language, n.body FROM notifications n JOIN consumers c"
            " ON c.id = n.consumer_id WHERE n.message_type = 'supply_restored' ORDER BY 1"
        )
    ).all()


BATCHES = [
    # a DT burst on OD1 (4 of 6; the feeder needs 6 of 10), restored at different times
    [(f"OD1-M{i}", 101, f"2026-12-02T03:00:{5 * i:02d}", f"2026-12-02T03:{10 + i}:00") for i in range(1, 5)],
    # an isolated meter on OD2 and one back within the grace (no outage)
    [("OD2-M1", 101, "2026-12-02T04:00:00", None), ("OD2-M2", 101, "2026-12-02T04:00:30", None)],
    [("OD2-M2", 102, "2026-12-02T04:02:00", None), ("OD2-M1", 102, "2026-12-02T04:45:00", None)],
    # the whole feeder trips, then comes back; one meter's restoration is a duplicate
    [
        (f"{dt}-M{i}", 101, "2026-12-02T05:00:00", None)
        for dt, n in (("OD1", 6), ("OD2", 4))
        for i in range(1, n + 1)
    ],  # fmt: skip
    [
        (f"{dt}-M{i}", 102, "2026-12-02T05:30:00", None)
        for dt, n in (("OD1", 6), ("OD2", 4))
        for i in range(1, n + 1)
    ],  # fmt: skip
    [("OD1-M1", 102, "2026-12-02T05:30:00", None)],
    # a late last gasp that belongs to the first burst
    [("OD1-M5", 101, "2026-12-02T03:00:40", "2026-12-02T03:20:00")],
]


def test_a_dt_outage_appears_as_events_arrive_and_restoration_closes_it_and_tells_its_consumers(
    session: Any, grid: Any, ingest: Any, run_jobs: Callable[..., int], clock: list[datetime]
) -> None:
    session.execute(text("UPDATE consumers SET language = 'hi' WHERE ivrs_number = 'OD1-C2'"))
    session.commit()
    ingest([(f"OD1-M{i}", 101, f"2026-12-02T06:00:{10 * i:02d}", None) for i in range(1, 3)])
    assert run_jobs("default") == 1
    # Two last gasps on a DT of six (need 3) are two service issues so far.
    assert [r[:3] for r in _outages(session)] == [
        ("meter", str(grid.meters["OD1-M1"]), "OUT-SERVICE"),
        ("meter", str(grid.meters["OD1-M2"]), "OUT-SERVICE"),
    ]
    ingest([(f"OD1-M{i}", 101, f"2026-12-02T06:00:{10 * i:02d}", None) for i in range(3, 5)])
    run_jobs("default")
    # The third and fourth make it one DT outage; the two service issues are withdrawn.
    assert _outages(session) == [
        ("dt", "OD1", "OUT-DT", "06:00:10", None, None, 6, 4, "OF1", "OD1", None, grid.org)
    ]
    assert _restored(session) == []
    ingest([(f"OD1-M{i}", 102, f"2026-12-02T07:0{i}:00", None) for i in range(1, 5)])
    run_jobs("default")
    # need = max(3, ceil(6 * 50%)) = 3: the second restoration (07:02) leaves two off.
    assert _outages(session) == [
        ("dt", "OD1", "OUT-DT", "06:00:10", "07:02:00", 3710, 6, 4, "OF1", "OD1", None, grid.org)
    ]
    restored = _restored(session)
    assert [r[0] for r in restored] == [f"OD1-C{i}" for i in range(1, 7)]  # every consumer on OD1
    assert restored[0] == (
        "OD1-C1", "en", "Power supply restored in DT OD1 at 02-12-2026 12:32. Thank you for your patience. -CMDMS"
    )  # fmt: skip
    assert restored[1][1] == "hi" and "DT OD1" in restored[1][2] and "12:32" in restored[1][2]
    # The periodic reconciling pass finds the same outage and sends nobody a second notice.
    from service.outages import jobs

    assert jobs.reconcile() == {"outages": 1, "removed": 0, "notices": 0}
    assert len(_restored(session)) == 6


def test_the_batch_pass_reproduces_the_stream_on_the_same_events(
    session: Any, grid: Any, ingest: Any, run_jobs: Callable[..., int], clock: list[datetime]
) -> None:
    for rows in BATCHES:
        ingest(rows)
        run_jobs("default")
    streamed, streamed_members = _outages(session), _members(session)
    assert [r[:6] for r in streamed] == [
        # five members, three needed: back when the third is restored (03:13)
        ("dt", "OD1", "OUT-DT", "03:00:05", "03:13:00", 775),
        ("meter", str(grid.meters["OD2-M1"]), "OUT-SERVICE", "04:00:00", "04:45:00", 2700),
        ("feeder", "OF1", "OUT-FEEDER", "05:00:00", "05:30:00", 1800),
    ]
    session.execute(text("DELETE FROM outages"))
    rebuild(session(), START, END)
    session.commit()
    assert _outages(session) == streamed
    assert _members(session) == streamed_members


def test_a_worker_that_missed_another_workers_job_rebuilds_from_the_store(
    session: Any, grid: Any, ingest: Any, run_jobs: Callable[..., int], clock: list[datetime], redis: Any
) -> None:
    from service.outages import jobs

    ingest([(f"OD1-M{i}", 101, f"2026-12-02T06:00:{10 * i:02d}", None) for i in range(1, 3)])
    run_jobs("default")
    # Another worker process ran a stream job meanwhile (its events are in the store, not here).
    ingest([(f"OD1-M{i}", 101, f"2026-12-02T06:00:{10 * i:02d}", None) for i in range(3, 5)])
    redis.incr(jobs.SEQ_KEY)
    ingest([("OD2-M1", 101, "2026-12-02T06:30:00", None)])
    queued = _default_jobs(redis)
    assert len(queued) == 2
    queued[0].delete()  # that job was the other worker's: this process never sees the batch
    run_jobs("default")
    assert [r[:2] for r in _outages(session)] == [("dt", "OD1"), ("meter", str(grid.meters["OD2-M1"]))]


def _default_jobs(redis: Any) -> list[Any]:
    from rq import Queue

    return Queue("default", connection=redis).get_jobs()


def test_a_lost_stream_job_is_made_good_by_the_reconciling_pass(
    session: Any, grid: Any, ingest: Any, redis: Any, clock: list[datetime]
) -> None:
    from service.outages import jobs

    ingest([(f"OD2-M{i}", 101, "2026-12-02T06:00:00", "2026-12-02T06:50:00") for i in range(1, 4)])
    for job in _default_jobs(redis):
        job.delete()  # Redis lost it after the commit
    assert _outages(session) == []
    assert jobs.reconcile() == {"outages": 1, "removed": 0, "notices": 4}
    assert [r[:6] for r in _outages(session)] == [("dt", "OD2", "OUT-DT", "06:00:00", "06:50:00", 3000)]
    assert [r[0] for r in _restored(session)] == [f"OD2-C{i}" for i in range(1, 5)]


def test_jobs_queued_behind_each_other_post_and_the_last_concludes_the_same_outages(
    session: Any, grid: Any, ingest: Any, run_jobs: Callable[..., int], clock: list[datetime], redis: Any
) -> None:
    from service.outages import jobs

    for rows in BATCHES:  # a storm: every batch committed before the worker gets to them
        ingest(rows)
    assert int(redis.get(jobs.WAITING_KEY)) == len(BATCHES)
    run_jobs("default")
    from rq import Queue
    from rq.job import Job

    queue = Queue("default", connection=redis)
    done = Job.fetch_many(queue.finished_job_registry.get_job_ids(), connection=redis)
    names = sorted(j.func_name.rsplit(".", 1)[1] for j in done if j.func_name.startswith("service.outages"))
    assert names == ["conclude_stream"] + ["events_stored"] * len(BATCHES)  # one conclusion for the deferred
    deferred = [j.return_value()["deferred"] for j in done if j.func_name.endswith("events_stored")]
    # The first rebuilt, the duplicate restoration stored nothing new, the last concluded.
    assert sorted(deferred) == [False] * 3 + [True] * (len(BATCHES) - 3)
    streamed = _outages(session)
    assert [r[:3] for r in streamed] == [("dt", "OD1", "OUT-DT"), ("meter", str(grid.meters["OD2-M1"]), "OUT-SERVICE"),
                                         ("feeder", "OF1", "OUT-FEEDER")]  # fmt: skip
    session.execute(text("DELETE FROM outages"))
    rebuild(session(), START, END)
    session.commit()
    assert _outages(session) == streamed
