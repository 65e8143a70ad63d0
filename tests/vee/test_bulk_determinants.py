"""The set-based determinants path gives the per-segment loader's results, and the month's
run (`flask vee determinants`) publishes every consumer once per content, one job per chunk."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import text

from service.queues import get_queue
from service.vee.bulk import compute_for_period
from service.vee.determinants import compute_by_segment
from tests.vee.conftest import registers_batch
from tests.vee.test_determinants import _interval_batch, _replacement_data

PERIOD = "2026-10"


def _day(meter: str, day: str, scale: float) -> list[tuple[str, str, str, float]]:
    """48 half-hours of a local day (IST) with uneven values in every TOD zone, kWh and kVAh."""
    first = np.datetime64(f"{day}T18:30:00") - np.timedelta64(1, "D")
    rows = []
    for k in range(1, 49):
        end = str(first + np.timedelta64(30 * k, "m"))
        kwh = round(scale * (0.1 + 0.0137 * ((k * 7) % 11)), 4)
        rows += [(meter, "kwh", end, kwh), (meter, "kvah", end, round(kwh * 1.13 + 0.0011, 4))]
    return rows


def _mixed_month(session: Any, ingest: Any) -> None:
    """The replacement of VOLD by VNEW (VC2) plus full days of intervals on VM1 (VC1), VOLD and
    VNEW in every zone, register reads of VM1, and a mix of qualities (raw, failed, estimated)."""
    _replacement_data(session, ingest)
    start, end = "2026-09-30T18:30:00", "2026-10-31T18:30:00"
    ingest(
        registers_batch(
            [
                ("VM1", "daily", "kwh", np.datetime64(start), 400.5, None),
                ("VM1", "daily", "kvah", np.datetime64(start), 450.25, None),
                ("VM1", "billing", "kwh", np.datetime64(end), 612.375, None),
                ("VM1", "billing", "kvah", np.datetime64(end), 690.5, None),
            ]
        )
    )
    ingest(_interval_batch(_day("VM1", "2026-10-05", 1.0) + _day("VM1", "2026-10-06", 1.7)))
    ingest(_interval_batch(_day("VOLD", "2026-10-12", 0.9) + _day("VNEW", "2026-10-25", 1.3)))
    session.execute(text("UPDATE register_reads SET quality = 'valid'"))
    session.execute(text("UPDATE interval_readings SET quality = 'valid' WHERE quality = 'raw'"))
    session.execute(text("UPDATE interval_readings SET quality = 'failed' WHERE value > 5"))
    session.execute(
        text(
            "UPDATE interval_readings SET quality = 'estimated' WHERE extract(minute FROM interval_end) = 30"
        )
    )
    session.execute(
        text(
            "UPDATE interval_readings SET quality = 'raw' WHERE interval_end = '2026-10-06T01:00:00+00'"
            " OR interval_end = '2026-10-25T15:30:00+00'"
        )
    )
    session.commit()


def test_bulk_determinants_equal_the_per_segment_loader_for_every_consumer_of_the_discom(
    session: Any, network: dict[str, int], ingest: Any
) -> None:
    _mixed_month(session, ingest)
    everyone = list(session.execute(text("SELECT id FROM consumers ORDER BY id")).scalars())
    reference = compute_by_segment(session(), everyone, PERIOD)
    bulk = compute_for_period(session(), PERIOD)
    assert len(reference) > 40  # the demo discom's consumers and VC1..VC3
    assert bulk == reference
    vc1, vc2 = bulk[network["VC1"]], bulk[network["VC2"]]
    assert vc1["energy_source"] == "registers" and vc1["kwh"] == 211.875
    assert all(z["kwh"] > 0 for z in vc1["tod"])  # a normal, two peak and an off-peak share
    assert vc1["validation"]["intervals"]["raw"] == 1 and vc1["validation"]["intervals"]["estimated"] == 48
    assert [m["serial_number"] for m in vc2["meters"]] == ["VOLD", "VNEW"]
    # A chunk of consumers gives the same as the whole discom.
    assert compute_for_period(session(), PERIOD, [network["VC2"]]) == {
        network["VC2"]: reference[network["VC2"]]
    }


def test_the_month_run_queues_one_bulk_job_per_chunk_and_publishes_each_consumer_once_per_content(
    app: Any, session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, billing: Any
) -> None:
    _mixed_month(session, ingest)
    consumers = session.execute(text("SELECT count(DISTINCT consumer_id) FROM installations")).scalar_one()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["vee", "determinants", "--period", PERIOD, "--chunk", "20"])
    jobs = -(-consumers // 20)
    assert result.exit_code == 0, result.output
    assert f"{PERIOD}: {jobs} jobs queued on 'bulk'" in result.output
    assert run_jobs("bulk") == jobs
    assert get_queue("bulk", app).failed_job_registry.count == 0
    stored = session.execute(
        text("SELECT consumer_id, revision, payload FROM billing_determinants WHERE period = :p"),
        {"p": PERIOD},
    ).all()
    assert len(stored) == consumers and {r.revision for r in stored} == {1}
    reference = compute_by_segment(session(), [r.consumer_id for r in stored], PERIOD)
    assert all(r.payload == reference[r.consumer_id] for r in stored)
    keys = set(session.execute(text("SELECT dedupe_key FROM outbox")).scalars())
    assert f"billing.determinants:{network['VC2']}:{PERIOD}:r1" in keys and len(keys) == consumers
    # Each chunk queued its pushes after commit: billing gets every consumer once.
    assert run_jobs("default") == consumers
    assert session.execute(text("SELECT DISTINCT status FROM outbox")).scalars().all() == ["done"]
    assert sorted(r.idempotency_key for r in billing.requests) == sorted(
        f"determinants:{r.payload['consumer']}:{PERIOD}:r1" for r in stored
    )

    # Same data again: nothing new. A late read for VC1 only: revision 2 for VC1 alone.
    runner.invoke(args=["vee", "determinants", "--period", PERIOD])
    run_jobs("bulk")
    assert session.execute(text("SELECT count(*) FROM billing_determinants")).scalar_one() == consumers
    session.execute(text("UPDATE register_reads SET value = 700 WHERE channel = 'kwh' AND kind = 'billing'"))
    session.commit()
    runner.invoke(args=["vee", "determinants", "--period", PERIOD])
    run_jobs("bulk")
    revised = session.execute(
        text("SELECT consumer_id, revision FROM billing_determinants WHERE revision > 1")
    ).all()
    assert revised == [(network["VC1"], 2)]
    assert f"billing.determinants:{network['VC1']}:{PERIOD}:r2" in set(
        session.execute(text("SELECT dedupe_key FROM outbox")).scalars()
    )


def test_the_month_run_refuses_a_bad_period(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["vee", "determinants", "--period", "Oct-2026"])
    assert result.exit_code == 1 and "period must be YYYY-MM, got 'Oct-2026'" in result.output
