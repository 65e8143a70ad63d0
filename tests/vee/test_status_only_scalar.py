"""VEE of a status-only monthly scalar read (door locked, no value) sent through the billing API."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from integrations.billing.scalar_reads import scalar_reads_json
from tests.vee.conftest import failures, registers_batch

OCT_READ = "2026-10-01T11:30:00+05:30"  # 06:00 UTC


@pytest.fixture
def send(client: Any, make_api_key: Any) -> Any:
    headers = {**make_api_key("readings:write", system="billing"), "Content-Type": "application/json"}

    def post(*reads: dict[str, Any]) -> dict[str, Any]:
        answer = client.post(
            "/api/v1/billing/scalar-reads", data=scalar_reads_json(list(reads)), headers=headers
        )
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["rejected"] == []
        return answer.get_json()  # type: ignore[no-any-return]

    return post


def october_read(session: Any, meter_id: int) -> Any:
    session.expire_all()
    return session.execute(
        text(
            "SELECT value, reading_status, quality FROM register_reads"
            " WHERE meter_id = :m AND kind = 'scalar' AND channel = 'kwh' AND read_at = '2026-10-01T06:00:00Z'"
        ),
        {"m": meter_id},
    ).one()


def test_stored_door_locked_read_fails_the_status_rule_and_is_estimated_from_average_daily_use(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, send: Any
) -> None:
    months = [np.datetime64(f"2026-{m:02d}-01T06:00:00", "s") for m in range(3, 10)]
    ingest(
        registers_batch(
            [("VS1", "scalar", "kwh", t, 1000.0 + 100 * i, "normal") for i, t in enumerate(months)]
        )
    )
    run_jobs("vee")

    send({"meter": "VS1", "read_at": OCT_READ, "status": "door_locked"})
    assert tuple(october_read(session, network["VS1"])) == (None, "door_locked", "raw")
    run_jobs("vee")

    # The status rule fired on the stored read; high/low and zero-use rules skipped it.
    assert [(f[0], f[2]) for f in failures(session, network["VS1"])] == [("SC-STATUS", None)]
    read = october_read(session, network["VS1"])
    # previous 1600 on 1 Sep + (100 kWh a month / 30.44 days) x 30 days
    assert (round(read.value, 1), read.reading_status, read.quality) == (
        round(1600 + 100 / 30.44 * 30, 1),
        "door_locked",
        "estimated",
    )
    estimate = session.execute(text("SELECT channel, method, original_value FROM vee_estimates")).one()
    assert tuple(estimate) == ("scalar_kwh", "average_daily_use", None)

    # Billing sends the same status-only read again: nothing new, the estimate stays.
    again = send({"meter": "VS1", "read_at": OCT_READ, "status": "door_locked"})
    assert (again["stored"], again["unchanged"], again["revised"]) == (0, 1, 0)
    run_jobs("vee")
    assert october_read(session, network["VS1"]).quality == "estimated"

    # The real read arrives late: it replaces the estimate and passes.
    late = send({"meter": "VS1", "read_at": OCT_READ, "status": "normal", "kwh": 1705.0})
    assert late["revised"] == 1
    run_jobs("vee")
    assert tuple(october_read(session, network["VS1"])) == (1705.0, "normal", "valid")


def test_door_locked_read_without_history_fails_and_keeps_no_value(
    session: Any, network: dict[str, int], run_jobs: Any, send: Any
) -> None:
    send({"meter": "VS1", "read_at": OCT_READ, "status": "meter_burnt"})
    run_jobs("vee")
    assert tuple(october_read(session, network["VS1"])) == (None, "meter_burnt", "failed")
    assert [f[0] for f in failures(session, network["VS1"])] == ["SC-STATUS"]
    assert session.execute(text("SELECT count(*) FROM vee_estimates")).scalar_one() == 0


def test_door_locked_month_after_two_normal_reads_in_one_batch_is_estimated(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any
) -> None:
    aug, sep, oct_ = (np.datetime64(f"2026-{m:02d}-01T06:00:00", "s") for m in (8, 9, 10))
    ingest(
        registers_batch(
            [
                ("VS1", "scalar", "kwh", aug, 1000.0, "normal"),
                ("VS1", "scalar", "kwh", sep, 1090.0, "normal"),
                ("VS1", "scalar", "kwh", oct_, np.nan, "door_locked"),
            ]
        )
    )
    run_jobs("vee")
    read = october_read(session, network["VS1"])
    # previous 1090 on 1 Sep + (90 kWh in the one month before it / 30.44 days) x 30 days
    assert (read.quality, round(read.value, 1)) == ("estimated", round(1090 + 90 / 30.44 * 30, 1))
    estimates = session.execute(text("SELECT ts, method, original_value FROM vee_estimates")).all()
    assert [(e.method, e.original_value) for e in estimates] == [("average_daily_use", None)]


def test_a_read_that_cannot_be_estimated_writes_no_estimate_row(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any
) -> None:
    oct_ = np.datetime64("2026-10-01T06:00:00", "s")
    ingest(registers_batch([("VS1", "scalar", "kwh", oct_, np.nan, "door_locked")]))  # no history
    run_jobs("vee")
    read = october_read(session, network["VS1"])
    assert (read.value, read.quality) == (None, "failed")
    assert session.execute(text("SELECT count(*) FROM vee_estimates")).scalar_one() == 0
