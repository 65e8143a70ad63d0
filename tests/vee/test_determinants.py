"""Billing determinants across a mid-period meter replacement; pull API; push to billing with
retry after a 500 and idempotency by consumer + period."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import text

from integrations.canonical import CanonicalBatch, Intervals
from service.outbox.jobs import sweep
from tests.vee.conftest import registers_batch


def _interval_batch(rows: list[tuple[str, str, str, float]]) -> CanonicalBatch:
    return CanonicalBatch(
        source="hes:TEST",
        intervals=Intervals(
            meter=np.array([r[0] for r in rows], dtype=object),
            channel=np.array([r[1] for r in rows], dtype=object),
            interval_end=np.array([r[2] for r in rows], dtype="datetime64[s]"),
            value=np.array([r[3] for r in rows], dtype=np.float64),
            interval_minutes=np.full(len(rows), 30, dtype=np.int16),
        ),
    )


def _replacement_data(session: Any, ingest: Any) -> None:
    """VOLD (MF 1) from 1000 kWh at the period start to its final 1150 at removal on 16 Oct;
    VNEW (MF 2) from its initial 0 to 210 at the period end. Two validated intervals for TOD/MD."""
    start, end = "2026-09-30T18:30:00", "2026-10-31T18:30:00"
    ingest(
        registers_batch(
            [
                ("VOLD", "daily", "kwh", np.datetime64(start), 1000.0, None),
                ("VOLD", "daily", "kvah", np.datetime64(start), 1100.0, None),
                ("VNEW", "daily", "kwh", np.datetime64(end), 210.0, None),
                ("VNEW", "daily", "kvah", np.datetime64(end), 240.0, None),
            ]
        )
    )
    ingest(
        _interval_batch(
            [
                ("VOLD", "kwh", "2026-10-10T02:00:00", 2.0),  # 07:00-07:30 IST: morning peak
                ("VOLD", "kvah", "2026-10-10T02:00:00", 2.2),
                ("VNEW", "kwh", "2026-10-20T14:00:00", 3.0),  # 19:00-19:30 IST: evening peak
                ("VNEW", "kvah", "2026-10-20T14:00:00", 3.3),
                ("VNEW", "kwh", "2026-10-21T14:00:00", 9.0),  # failed: never billed
                ("VNEW", "kvah", "2026-10-21T14:00:00", 9.9),
            ]
        )
    )
    # The arrangement: these reads were validated earlier (VEE itself is tested elsewhere).
    session.execute(text("UPDATE register_reads SET quality = 'valid'"))
    session.execute(text("UPDATE interval_readings SET quality = 'valid'"))
    session.execute(text("UPDATE interval_readings SET quality = 'failed' WHERE value > 5"))
    session.commit()


def test_determinants_across_a_mid_period_replacement_match_hand_computed_numbers(
    session: Any, network: dict[str, int], ingest: Any, make_api_key: Any, client: Any
) -> None:
    _replacement_data(session, ingest)
    headers = make_api_key("determinants:read")
    answer = client.get("/api/v1/determinants?consumer=VC2&period=2026-10", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    d = answer.get_json()
    # (1150 - 1000) x 1 + (210 - 0) x 2 = 570 kWh; (1270 - 1100) + (240 - 0) x 2 = 650 kVAh
    assert (d["kwh"], d["kvah"], d["energy_source"]) == (570.0, 650.0, "registers")
    zones = {z["name"]: z["kwh"] for z in d["tod"]}
    assert zones == {
        "normal": 0.0,
        "morning_peak": 228.0,
        "evening_peak": 342.0,
        "off_peak": 0.0,
    }  # 2:3 of 570
    assert d["md_kw"] == {"value": 6.0, "at": "2026-10-20T14:00:00+00:00"}
    assert d["md_kva"] == {"value": 6.6, "at": "2026-10-20T14:00:00+00:00"}
    assert d["avg_pf"] == round(570 / 650, 4)
    assert [(m["serial_number"], m["start_kwh"], m["end_kwh"]) for m in d["meters"]] == [
        ("VOLD", 1000.0, 1150.0),
        ("VNEW", 0.0, 210.0),
    ]
    summary = d["validation"]
    assert summary["intervals"]["valid"] == 2 and summary["intervals"]["failed"] == 1
    assert summary["expected_intervals"] == 15 * 48 + 16 * 48
    assert summary["billable"] is False  # a failed interval in the period


def test_the_pull_api_refuses_missing_scope_unknown_consumer_and_bad_period(
    network: dict[str, int], make_api_key: Any, client: Any
) -> None:
    good = make_api_key("determinants:read")
    assert (
        client.get(
            "/api/v1/determinants?consumer=VC2&period=2026-10", headers=make_api_key("readings:read")
        ).status_code
        == 403
    )
    unknown = client.get("/api/v1/determinants?consumer=NOPE&period=2026-10", headers=good)
    assert (unknown.status_code, unknown.get_json()["error"]) == (404, "unknown_consumer")
    bad = client.get("/api/v1/determinants?consumer=VC2&period=Oct-2026", headers=good)
    assert (bad.status_code, bad.get_json()["message"]) == (422, "period must be YYYY-MM, got 'Oct-2026'")
    before = client.get("/api/v1/determinants?consumer=VC2&period=2025-10", headers=good)
    assert (before.status_code, before.get_json()["error"]) == (404, "no_installation")


def test_push_to_billing_retries_after_a_500_and_is_idempotent_by_consumer_and_period(
    session: Any,
    network: dict[str, int],
    ingest: Any,
    make_api_key: Any,
    client: Any,
    billing: Any,
    run_jobs: Any,
) -> None:
    _replacement_data(session, ingest)
    headers = make_api_key("readings:write", system="billing-ops")
    billing.fail_next(1, status=500)
    first = client.post(
        "/api/v1/determinants/publish", json={"consumer": "VC2", "period": "2026-10"}, headers=headers
    )
    assert (first.status_code, first.get_json()["revision"], first.get_json()["queued"]) == (202, 1, True)
    run_jobs("default")
    item = session.execute(text("SELECT status, attempts, last_error FROM outbox")).one()
    assert (item.status, item.attempts) == ("pending", 1) and "500" in item.last_error
    session.execute(text("UPDATE outbox SET next_attempt_at = now()"))  # the back-off has passed
    session.commit()
    sweep()
    run_jobs("default")
    session.expire_all()
    assert session.execute(text("SELECT status, attempts FROM outbox")).one() == ("done", 2)
    assert len(billing.requests) == 2 and len(billing.answers) == 1  # a 500, then accepted
    accepted = billing.requests[-1]
    assert accepted.signature_ok
    assert accepted.path == "/api/v1/determinants"
    assert accepted.idempotency_key == "determinants:VC2:2026-10:r1"
    assert (accepted.body["consumer"], accepted.body["kwh"]) == ("VC2", 570.0)
    # Publishing the same content again queues nothing; a re-delivery is answered once.
    again = client.post(
        "/api/v1/determinants/publish", json={"consumer": "VC2", "period": "2026-10"}, headers=headers
    )
    assert (again.status_code, again.get_json()["queued"]) == (200, False)
    assert session.execute(text("SELECT count(*) FROM outbox")).scalar_one() == 1
    session.execute(text("UPDATE outbox SET status = 'pending', next_attempt_at = now()"))
    session.commit()
    sweep()
    run_jobs("default")
    assert len(billing.answers) == 1
    assert [r.idempotency_key for r in billing.requests] == ["determinants:VC2:2026-10:r1"] * 3
