"""Editing a reading: original kept, audited, re-validated; only authorised people; bad input."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.vee.conftest import intervals_batch, profile, readings, utc


def _day(ingest: Any, run_jobs: Any) -> None:
    ingest(intervals_batch("VM1", profile()))
    run_jobs("vee")


def edit_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "meter": "VM1",
        "channel": "kwh",
        "interval_end": utc(20).isoformat(),
        "value": 0.4,
        "reason": "photo of display",
    }
    return {**body, **overrides}


def test_an_analyst_edit_keeps_the_original_is_audited_and_the_value_becomes_edited(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, login: Any
) -> None:
    _day(ingest, run_jobs)
    original = readings(session, network["VM1"])[20]
    answer = login("analyst").post("/api/v1/vee/edits", json=edit_body())
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["original_value"] == original[0]
    session.expire_all()
    assert readings(session, network["VM1"])[20] == (0.4, "edited")
    edit = session.execute(
        text("SELECT original_value, original_quality, new_value, reason, edited_by FROM vee_edits")
    ).one()
    assert tuple(edit) == (original[0], "valid", 0.4, "photo of display", "user:analyst")
    audit = session.execute(
        text("SELECT actor, before, after FROM audit_log WHERE action = 'reading.edit'")
    ).one()
    assert audit.actor == "analyst"
    assert audit.before == {"value": original[0], "quality": "valid"}
    assert audit.after["value"] == 0.4 and audit.after["reason"] == "photo of display"


def test_an_edit_is_re_validated_and_its_failure_recorded_but_the_flag_stays_edited(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, login: Any
) -> None:
    _day(ingest, run_jobs)
    answer = login("analyst").post("/api/v1/vee/edits", json=edit_body(value=1.6))  # a spike, 6.4 kW
    assert answer.status_code == 201
    session.expire_all()
    assert readings(session, network["VM1"])[20] == (1.6, "edited")
    rules = session.execute(text("SELECT rule_id FROM vee_failures")).scalars().all()
    assert rules == ["SM-INT-SPIKE"]


def test_edits_are_refused_with_a_clear_error(
    network: dict[str, int], ingest: Any, run_jobs: Any, login: Any
) -> None:
    _day(ingest, run_jobs)
    client = login("analyst")
    cases = [
        (edit_body(reason="  "), 422, "reason_required"),
        (edit_body(value=-1), 422, "invalid_value"),
        (edit_body(value="1"), 422, "invalid_field"),
        (edit_body(channel="voltage_r"), 422, "invalid_channel"),
        (edit_body(meter="NOPE"), 404, "unknown_meter"),
        (edit_body(interval_end="2026-10-05T00:07:00+00:00"), 404, "reading_not_found"),
        (edit_body(interval_end="yesterday"), 422, "invalid_field"),
        (edit_body(interval_end="2026-10-05T00:00:00"), 422, "invalid_field"),
        ({k: v for k, v in edit_body().items() if k != "reason"}, 422, "missing_field"),
    ]
    for body, status, error in cases:
        answer = client.post("/api/v1/vee/edits", json=body)
        assert (answer.status_code, answer.get_json()["error"]) == (status, error), body


def test_a_viewer_may_not_edit_and_a_field_officer_only_in_their_division(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, login: Any, client: Any
) -> None:
    _day(ingest, run_jobs)
    assert login("viewer").post("/api/v1/vee/edits", json=edit_body()).status_code == 403
    client.post("/logout", data={})
    west = login("ee_west").post("/api/v1/vee/edits", json=edit_body())
    assert (west.status_code, west.get_json()["error"]) == (404, "unknown_meter")
    assert session.execute(text("SELECT count(*) FROM vee_edits")).scalar_one() == 0


def test_the_reading_page_shows_the_day_and_edits_through_its_form(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, login: Any, csrf_token: Any
) -> None:
    _day(ingest, run_jobs)
    client = login("ee_east")
    page = client.get("/vee/readings?meter=VM1&day=2026-10-05")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("<tr>") == 97
    answer = client.post(
        "/vee/readings",
        data={
            "csrf_token": csrf_token(html),
            "meter": "VM1",
            "day": "2026-10-05",
            "interval_end": utc(5).isoformat(),
            "value": "0.5",
            "reason": "reading verified on site",
        },
    )
    assert answer.status_code == 302
    session.expire_all()
    assert readings(session, network["VM1"])[5] == (0.5, "edited")
    assert "Reading edited and re-validated." in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_a_re_delivered_value_is_kept_as_a_revision_but_the_analyst_edit_stays_in_force(
    session: Any, network: dict[str, int], ingest: Any, run_jobs: Any, login: Any
) -> None:
    _day(ingest, run_jobs)
    original = readings(session, network["VM1"])[20][0]
    assert login("analyst").post("/api/v1/vee/edits", json=edit_body(value=0.4)).status_code == 201

    resent = ingest(intervals_batch("VM1", [(20, 0.35)]))
    assert (resent.stored, resent.unchanged, resent.revised) == (0, 0, 1)
    run_jobs("vee")
    session.expire_all()
    assert readings(session, network["VM1"])[20] == (0.4, "edited")
    revision = session.execute(
        text(
            "SELECT measure, channel, at, old_value, old_quality, new_value, new_source, new_batch_id, applied"
            " FROM reading_revisions"
        )
    ).one()
    assert (revision.measure, revision.channel, revision.at) == ("interval", "kwh", utc(20))
    assert (revision.old_value, revision.old_quality, revision.new_value) == (0.4, "edited", 0.35)
    assert (revision.new_source, revision.new_batch_id, revision.applied) == (
        "hes:TEST",
        resent.batch_id,
        False,
    )

    # The same value sent again adds nothing; the original raw value once more is recorded.
    again = ingest(intervals_batch("VM1", [(20, 0.35)]))
    assert (again.unchanged, again.revised) == (1, 0)
    first_value = ingest(intervals_batch("VM1", [(20, original)]))
    assert first_value.revised == 1
    session.expire_all()
    assert readings(session, network["VM1"])[20] == (0.4, "edited")
    held = session.execute(text("SELECT new_value FROM reading_revisions ORDER BY id")).scalars().all()
    assert held == [0.35, original]
