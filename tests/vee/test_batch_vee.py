"""VEE per ingested batch through a real RQ worker; re-runs replace; late data beats estimates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.vee.conftest import failures, intervals_batch, profile, readings, utc


def test_batch_job_fails_the_spike_estimates_it_and_fills_the_gap(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any
) -> None:
    ingest(intervals_batch("VM1", profile({30: 1.5}, skip=(50, 51))))
    run_jobs("vee")
    day = readings(session, network["VM1"])
    assert len(day) == 96
    assert day[30][1] == "estimated"  # the spike, replaced by interpolation of 29 and 31
    assert round(day[30][0], 4) == round((day[29][0] + day[31][0]) / 2, 4)
    assert (day[50][1], day[51][1]) == ("estimated", "estimated")
    left, right = day[49][0], day[52][0]
    assert [round(day[i][0], 4) for i in (50, 51)] == [
        round(left + (right - left) * k / 3, 4) for k in (1, 2)
    ]
    assert {q for i, (_, q) in day.items() if i not in (30, 50, 51)} == {"valid"}
    assert failures(session) == [("SM-INT-GAP", utc(50), 2.0), ("SM-INT-SPIKE", utc(30), 1.5)]
    methods = session.execute(text("SELECT ts, method, original_value FROM vee_estimates ORDER BY ts")).all()
    assert [(m, o) for _, m, o in methods] == [
        ("linear_interpolation", 1.5),
        ("linear_interpolation", None),
        ("linear_interpolation", None),
    ]
    batch = session.execute(text("SELECT status FROM ingest_batches")).scalar_one()
    assert batch == "validated"


def test_rerun_replaces_failures_of_the_range_and_never_duplicates(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, login: Any
) -> None:
    ingest(intervals_batch("VM1", profile({10 + i: 0.0 for i in range(8)})))
    run_jobs("vee")
    before = failures(session)
    assert before == [("SM-INT-ZERO", utc(10), 8.0)]
    client = login("analyst")
    for _ in range(2):
        answer = client.post(
            "/api/v1/vee/rerun", json={"meters": ["VM1"], "from": "2026-10-05", "to": "2026-10-05"}
        )
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["failures"] == 1
    session.expire_all()
    assert failures(session) == before
    assert (
        session.execute(text("SELECT count(*) FROM audit_log WHERE action = 'vee.rerun'")).scalar_one() == 2
    )


def test_rerun_refuses_unknown_meters_bad_dates_and_people_without_the_role(
    network: dict[str, int], login: Any, client: Any
) -> None:
    analyst = login("analyst")
    bad = analyst.post(
        "/api/v1/vee/rerun", json={"meters": ["NOPE"], "from": "2026-10-05", "to": "2026-10-05"}
    )
    assert (bad.status_code, bad.get_json()["error"], bad.get_json()["message"]) == (
        422,
        "invalid_rerun",
        "unknown meters: NOPE",
    )
    wrong = analyst.post("/api/v1/vee/rerun", json={"meters": ["VM1"], "from": "5 Oct", "to": "2026-10-05"})
    assert (wrong.status_code, wrong.get_json()["field"]) == (422, "from")
    backwards = analyst.post(
        "/api/v1/vee/rerun", json={"meters": ["VM1"], "from": "2026-10-06", "to": "2026-10-05"}
    )
    assert backwards.get_json()["message"] == "'to' is before 'from'"
    not_json = analyst.post("/api/v1/vee/rerun", data="meters=VM1")
    assert (not_json.status_code, not_json.get_json()["error"]) == (400, "invalid_json")
    analyst.post("/logout", data={})
    viewer = login("viewer")
    denied = viewer.post(
        "/api/v1/vee/rerun", json={"meters": ["VM1"], "from": "2026-10-05", "to": "2026-10-05"}
    )
    assert denied.status_code == 403


def test_real_data_arriving_late_replaces_the_estimates(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any
) -> None:
    ingest(intervals_batch("VM1", profile(skip=(60, 61, 62))))
    run_jobs("vee")
    assert readings(session, network["VM1"])[61][1] == "estimated"
    ingest(intervals_batch("VM1", [(60, 0.31), (61, 0.32), (62, 0.33)]))
    run_jobs("vee")
    session.expire_all()
    day = readings(session, network["VM1"])
    assert [day[i] for i in (60, 61, 62)] == [(0.31, "valid"), (0.32, "valid"), (0.33, "valid")]
    assert session.execute(text("SELECT count(*) FROM vee_estimates")).scalar_one() == 0
    assert failures(session) == []  # the re-validated day has no gap any more


def test_scalar_read_with_door_locked_is_estimated_from_average_daily_use(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any
) -> None:
    import numpy as np

    from tests.vee.conftest import registers_batch

    months = [np.datetime64(f"2026-{m:02d}-01T06:00:00", "s") for m in range(3, 10)]
    history = [("VS1", "scalar", "kwh", t, 1000.0 + 100 * i, "normal") for i, t in enumerate(months)]
    ingest(registers_batch(history))
    run_jobs("vee")
    ingest(
        registers_batch(
            [("VS1", "scalar", "kwh", np.datetime64("2026-10-01T06:00:00", "s"), 0.0, "door_locked")]
        )
    )
    run_jobs("vee")
    row = session.execute(
        text(
            "SELECT value, quality FROM register_reads WHERE meter_id = :m AND read_at = '2026-10-01T06:00:00Z'"
        ),
        {"m": network["VS1"]},
    ).one()
    # previous 1600 on 1 Sep + (100 kWh a month / 30.44 days) x 30 days
    assert (round(row.value, 1), row.quality) == (round(1600 + 100 / 30.44 * 30, 1), "estimated")
    assert [f[0] for f in failures(session, network["VS1"])] == ["SC-STATUS"]
    method = session.execute(text("SELECT method, original_value FROM vee_estimates")).one()
    assert tuple(method) == ("average_daily_use", 0.0)


def test_rerun_refuses_a_range_longer_than_92_days(network: dict[str, int], login: Any) -> None:
    answer = login("analyst").post(
        "/api/v1/vee/rerun", json={"meters": ["VM1"], "from": "2026-01-01", "to": "2026-06-30"}
    )
    assert (answer.status_code, answer.get_json()["message"]) == (422, "at most 92 days per re-run")


def test_flask_vee_rerun_validates_a_meter_range_from_the_command_line(
    app: Any, session: Any, network: dict[str, int], ingest: Any
) -> None:
    ingest(intervals_batch("VM1", profile({10 + i: 0.0 for i in range(8)})))  # not yet validated
    result = app.test_cli_runner().invoke(
        args=["vee", "rerun", "--meter", "VM1", "--from", "2026-10-05", "--to", "2026-10-05"]
    )
    assert result.exit_code == 0, result.output
    assert "'failures': 1" in result.output
    session.expire_all()
    assert failures(session) == [("SM-INT-ZERO", utc(10), 8.0)]
    unknown = app.test_cli_runner().invoke(
        args=["vee", "rerun", "--meter", "NOPE", "--from", "2026-10-05", "--to", "2026-10-05"]
    )
    assert unknown.exit_code == 1 and "unknown meters: NOPE" in unknown.output
