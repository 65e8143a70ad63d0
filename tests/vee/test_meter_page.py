"""The meter page over HTTP: scoped to the user's area, range estimate by interpolation with one
reason and its originals kept, refusals with the reason, VEE re-run on the range."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.vee.conftest import intervals_batch, profile

DAY = "2026-10-05"


def test_interpolated_range_keeps_originals_and_is_audited_once(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, login: Any, csrf_token: Any
) -> None:
    ingest(intervals_batch("VM1", profile({41: 9.0, 42: 9.0, 43: 9.0})))  # 10:15-10:45 IST are wrong
    run_jobs("vee")
    client = login("analyst")
    token = csrf_token(client.get(f"/meters/VM1?day={DAY}").get_data(as_text=True))
    form = {"csrf_token": token, "from": f"{DAY}T10:00", "to": f"{DAY}T10:45", "mode": "interpolate"}
    refused = client.post("/meters/VM1/edit", data={**form, "reason": " "})
    assert refused.status_code == 302
    assert "An edit needs a reason." in client.get(refused.headers["Location"]).get_data(as_text=True)
    done = client.post("/meters/VM1/edit", data={**form, "reason": "CT loose; interpolated"})
    assert "3 interval(s) estimated by interpolation" in client.get(done.headers["Location"]).get_data(
        as_text=True
    )
    rows = session.execute(
        text(
            "SELECT r.interval_end, r.value, r.quality, v.original_value FROM interval_readings r"
            " JOIN vee_edits v ON v.meter_id = r.meter_id AND v.ts = r.interval_end ORDER BY r.interval_end"
        )
    ).all()
    before, after = 0.25 + 0.01 * (40 % 5), 0.25 + 0.01 * (44 % 5)  # intervals 40 and 44 stay
    assert [round(r.value, 4) for r in rows] == [
        round(before + (after - before) * k / 4, 4) for k in (1, 2, 3)
    ]
    assert {r.quality for r in rows} == {"edited"} and {r.original_value for r in rows} == {9.0}
    audit = session.execute(text("SELECT after FROM audit_log WHERE action = 'reading.edit_range'")).all()
    assert len(audit) == 1 and audit[0].after["intervals"] == 3 and audit[0].after["mode"] == "interpolate"
    rerun = client.post(
        "/meters/VM1/rerun", data={"csrf_token": token, "from": f"{DAY}T00:00", "to": f"{DAY}T23:45"}
    )
    assert "VEE re-run on 05 Oct–05 Oct" in client.get(rerun.headers["Location"]).get_data(as_text=True)


def test_meter_outside_my_area_is_not_found_and_edits_need_csrf(
    session: Any, network: dict[str, int], login: Any
) -> None:
    sehore = login("ee_sehore")
    assert sehore.get("/meters/VM1").status_code == 404  # VM1 is in BPLC-D1
    assert login("analyst").post("/meters/VM1/edit", data={"reason": "x"}).status_code == 400
    assert login("ccc").post("/meters/VM1/edit", data={"reason": "x"}).status_code in (400, 403)
