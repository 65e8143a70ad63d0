"""Whole new meter-days are validated as they are stored; the result equals the VEE job's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from service.readings import hooks
from tests.vee.conftest import DAY_START_DT, intervals_batch, profile, readings

# A spike (replaced by an estimate) and a run of zeros (flagged): both kinds of finding.
FAULTY_DAY = profile({30: 1.5, **{60 + i: 0.0 for i in range(8)}})


@pytest.fixture
def without_ingest_validation() -> Iterator[None]:
    saved = list(hooks.INGEST_VALIDATORS)
    hooks.INGEST_VALIDATORS.clear()
    yield
    hooks.INGEST_VALIDATORS[:] = saved


def outcome(session: Any, meter_id: int) -> dict[str, Any]:
    return {
        "readings": readings(session, meter_id),
        "failures": session.execute(
            text("SELECT rule_id, ts, value_seen, reference_value FROM vee_failures ORDER BY rule_id, ts")
        ).all(),
        "estimates": session.execute(
            text("SELECT ts, value, method, original_value, original_quality FROM vee_estimates ORDER BY ts")
        ).all(),
    }


def _validated_at_ingest(session: Any) -> list[bool]:
    return [
        bool((c or {}).get("validated_at_ingest"))
        for c in session.execute(text("SELECT counts FROM ingest_batches ORDER BY id")).scalars()
    ]


def test_a_whole_new_day_is_stored_once_with_its_flags(
    session: Any, network: dict[str, int], ingest: Any
) -> None:
    ingest(intervals_batch("VM1", FAULTY_DAY))
    assert _validated_at_ingest(session) == [True]
    day = readings(session, network["VM1"])
    assert day[30][1] == "estimated"
    assert {day[60 + i][1] for i in range(8)} == {"suspect"}  # the zero run is a warning
    assert {q for i, (_, q) in day.items() if i != 30 and not 60 <= i < 68} == {"valid"}
    assert session.execute(text("SELECT count(*) FROM interval_readings WHERE quality = 'raw'")).scalar() == 0


def test_validation_at_ingest_equals_revalidation_of_the_same_day(
    session: Any, network: dict[str, int], ingest: Any
) -> None:
    from service.vee.validation import day_window, validate

    # Flags only: a re-run sees an estimate where a replaced value was, so it finds nothing
    # there (the failure of the replaced value is not kept by a re-run, with or without this).
    ingest(intervals_batch("VM1", profile({60 + i: 0.0 for i in range(8)})))
    at_ingest = outcome(session, network["VM1"])
    assert at_ingest["failures"]
    start, end = day_window(DAY_START_DT + timedelta(minutes=15), DAY_START_DT + timedelta(days=1))
    validate(session(), [network["VM1"]], start, end)
    session.commit()
    assert outcome(session, network["VM1"]) == at_ingest


def test_validation_at_ingest_equals_the_vee_job_on_raw_rows(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, request: pytest.FixtureRequest
) -> None:
    ingest(intervals_batch("VM1", FAULTY_DAY))
    at_ingest = outcome(session, network["VM1"])
    assert at_ingest["failures"] and at_ingest["estimates"]
    session.execute(text("TRUNCATE interval_readings, vee_failures, vee_estimates, ingest_batches"))
    session.commit()
    request.getfixturevalue("without_ingest_validation")
    ingest(intervals_batch("VM1", FAULTY_DAY))
    assert _validated_at_ingest(session) == [False]
    run_jobs("vee")
    session.expire_all()
    assert outcome(session, network["VM1"]) == at_ingest


def test_partial_days_and_days_beside_stored_rows_are_left_to_the_job(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any
) -> None:
    ingest(intervals_batch("VM1", profile(skip=(5,))))  # one interval short
    ingest(intervals_batch("VM1", profile(), channel="kvah"))  # whole, but kWh of the day is stored
    assert _validated_at_ingest(session) == [False, False]
    assert session.execute(text("SELECT DISTINCT quality FROM interval_readings")).scalars().all() == ["raw"]
    run_jobs("vee")
    assert session.execute(text("SELECT count(*) FROM interval_readings WHERE quality = 'raw'")).scalar() == 0
