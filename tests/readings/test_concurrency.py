"""Two deliveries of the same new keys at once: the second falls back to the merge, nothing lost."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.readings import partitions
from service.readings.ingest import IngestResult, ingest_batch
from tests.readings.conftest import ACTOR, day_of, intervals_batch


def test_concurrent_copy_of_same_new_keys_falls_back_to_merge(app: Any, session: Any, meters: Any) -> None:
    from service.extensions import db

    engine = db.engine
    partitions.ensure_partitions(session(), "interval_readings", [date(2026, 10, 1)])
    session.commit()
    rows = day_of("M1", [0.1, 0.2, 0.3])
    first = Session(engine)
    ingest_batch(first, intervals_batch(rows), actor=ACTOR)  # holds its keys, uncommitted
    second: dict[str, IngestResult] = {}

    def deliver_again() -> None:
        with Session(engine) as other:
            second["result"] = ingest_batch(other, intervals_batch(rows, source="hes:SECOND"), actor=ACTOR)
            other.commit()

    thread = threading.Thread(target=deliver_again)
    thread.start()
    # Wait until the second delivery's COPY is blocked on the first one's keys.
    waiting = 0
    for _ in range(1500):
        waiting = session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'COPY%'"
            )
        ).scalar()
        session.rollback()
        if waiting:
            break
        time.sleep(0.02)
    assert waiting, "the second delivery never reached its COPY"
    first.commit()
    first.close()
    thread.join(timeout=60)

    result = second["result"]
    assert (result.stored, result.unchanged, result.revised) == (0, 3, 0)
    stored = session.execute(text("SELECT count(*), min(source) FROM interval_readings")).one()
    assert tuple(stored) == (3, "hes:TEST")
