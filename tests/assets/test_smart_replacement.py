"""Scalar -> smart replacement from the field app through workflows/meter_replacement.bpmn: the
HES simulator answers the commissioning read, billing (a stand-in HTTP server) takes the posting
through the outbox with one idempotency key however often it is called, and billing's signed
webhook approves (installation switched at the instant) or rejects (a work item with the reason)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.assets.conftest import Site, post_decision, submit_to_billing
from tests.processes.helpers import open_items

BODY = {
    "kind": "smart", "ivrs_number": "A1", "old_meter_serial": "S1", "new_meter_serial": "SM2",
    "replaced_at": "2026-11-20T10:00:00+05:30", "final_kwh": "1350", "initial_kwh": "0.4",
    "photo_ref": "field-app/photos/77.jpg",
}  # fmt: skip
AT = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)


def _state(session: Any, replacement_id: int) -> tuple[str, str | None]:
    session.expire_all()
    return session.execute(
        text("SELECT state, reason FROM meter_replacements WHERE id = :i"), {"i": replacement_id}
    ).one()


def _open_meter(session: Any, consumer_id: int) -> list[str]:
    return (
        session.execute(
            text(
                "SELECT m.serial_number FROM installations i JOIN meters m ON m.id = i.meter_id"
                " WHERE i.consumer_id = :c AND i.removed_at IS NULL"
            ),
            {"c": consumer_id},
        )
        .scalars()
        .all()
    )


def test_approved_replacement_switches_the_installation_at_the_instant(
    client: FlaskClient,
    session: Any,
    smart_site: Site,
    make_api_key: Any,
    run_jobs: Any,
    drain: Any,
    hes_sim: Any,
    billing: Any,
) -> None:
    key = make_api_key("assets:write", system="field-app")
    replacement_id = submit_to_billing(client, key, run_jobs, drain, hes_sim, BODY)
    assert [r.action for r in hes_sim.received] == ["read"] and hes_sim.received[0].meter == "SM2"
    assert _state(session, replacement_id) == ("awaiting_billing", None)
    posted = billing.accepted()
    assert [r.path for r in posted] == ["/replacements"]
    assert posted[0].body["new_meter_serial"] == "SM2" and posted[0].body["final_kwh"] == "1350.000"
    assert _open_meter(session, smart_site.ids["A1"]) == ["S1"]  # nothing switched before approval
    answer = post_decision(client, {"replacement_id": replacement_id, "decision": "approved"}, "dec-1")
    assert answer.status_code == 200, answer.json
    drain()
    assert _state(session, replacement_id)[0] == "done"
    assert _open_meter(session, smart_site.ids["A1"]) == ["SM2"]
    closed = session.execute(
        text("SELECT removed_at, final_kwh FROM installations WHERE meter_id = :m"),
        {"m": smart_site.ids["S1"]},
    ).one()
    assert closed[0] == AT and str(closed[1]) == "1350.000"
    status = session.execute(
        text("SELECT status FROM meter_assets WHERE meter_id = :m"), {"m": smart_site.ids["SM2"]}
    )
    assert status.scalar_one() == "installed"
    replay = post_decision(client, {"replacement_id": replacement_id, "decision": "approved"}, "dec-1")
    assert replay.status_code == 200  # the receipt's answer again; nothing runs twice
    assert _open_meter(session, smart_site.ids["A1"]) == ["SM2"]


def test_billing_rejection_becomes_a_work_item_with_the_reason_and_nothing_switches(
    client: FlaskClient,
    session: Any,
    smart_site: Site,
    make_api_key: Any,
    run_jobs: Any,
    drain: Any,
    hes_sim: Any,
    billing: Any,
) -> None:
    key = make_api_key("assets:write", system="field-app")
    replacement_id = submit_to_billing(client, key, run_jobs, drain, hes_sim, BODY)
    no_reason = post_decision(client, {"replacement_id": replacement_id, "decision": "rejected"}, "dec-0")
    assert (no_reason.status_code, no_reason.json["error"]) == (422, "invalid_field")
    reason = "Final read 1350 disagrees with the photo (1305)"
    answer = post_decision(
        client, {"replacement_id": replacement_id, "decision": "rejected", "reason": reason}, "dec-2"
    )
    assert answer.status_code == 200, answer.json
    assert _state(session, replacement_id) == ("rejected", reason)
    instance_id = session.execute(
        text("SELECT instance_id FROM meter_replacements WHERE id = :i"), {"i": replacement_id}
    ).scalar_one()
    items = open_items(instance_id)
    assert [(i.bpmn_id, i.candidate_group) for i in items] == [("rejected_replacement", "field_officer")]
    assert items[0].data["decision"] == {"ok": False, "reason": reason}
    assert _open_meter(session, smart_site.ids["A1"]) == ["S1"]
    late = post_decision(client, {"replacement_id": replacement_id, "decision": "approved"}, "dec-3")
    assert (late.status_code, late.json["error"]) == (409, "not_awaiting_billing")
    # The corrected report for the same instant is taken again (the rejected one is kept as it was).
    again = client.post("/api/v1/replacements", json={**BODY, "final_kwh": "1305"}, headers=key)
    assert again.status_code == 202 and again.json["replacement_id"] != replacement_id
    assert _state(session, replacement_id) == ("rejected", reason)


def test_billing_called_twice_with_one_idempotency_key_stores_and_acts_once(
    client: FlaskClient,
    session: Any,
    smart_site: Site,
    make_api_key: Any,
    run_jobs: Any,
    drain: Any,
    hes_sim: Any,
    billing: Any,
) -> None:
    """Billing applies the posting but its answer is lost: the outbox retries the item after its
    back-off, billing sees the same key again and answers its first answer; one posting exists
    on both sides and the process waits for billing's decision once."""
    billing.lose_next_answers(1)
    key = make_api_key("assets:write", system="field-app")
    replacement_id = submit_to_billing(client, key, run_jobs, drain, hes_sim, BODY)
    session.expire_all()
    item = session.execute(
        text("SELECT id, status, attempts, last_error FROM outbox WHERE operation = 'workflow:billing.post'")
    ).one()
    assert (item.status, item.attempts) == ("pending", 1) and "504" in item.last_error
    assert len(billing.requests) == 1 and len(billing.answers) == 1  # applied, answer lost
    session.execute(text("UPDATE outbox SET next_attempt_at = now() WHERE id = :i"), {"i": item.id})
    session.commit()  # the back-off has passed
    drain()
    session.expire_all()
    assert [r.path for r in billing.requests] == ["/replacements", "/replacements"]
    assert billing.requests[0].idempotency_key == billing.requests[1].idempotency_key != ""
    assert billing.requests[0].body == billing.requests[1].body
    [(stored_key, stored)] = billing.answers.items()  # billing stored (and acted on) one posting
    assert stored_key == billing.requests[0].idempotency_key
    done = session.execute(
        text("SELECT status, attempts, result FROM outbox WHERE operation = 'workflow:billing.post'")
    ).all()
    assert [(d.status, d.attempts) for d in done] == [("done", 2)]
    assert done[0].result["billing_reference"] == stored["billing_reference"] == "NGB-000001"
    assert _state(session, replacement_id) == ("awaiting_billing", None)
    instance_id = session.execute(
        text("SELECT instance_id FROM meter_replacements WHERE id = :i"), {"i": replacement_id}
    ).scalar_one()
    waits = session.execute(
        text("SELECT name FROM process_message_waits WHERE instance_id = :i"),
        {"i": instance_id},
    )
    assert waits.scalars().all() == ["replacement_decided"]  # resumed once, waiting for billing
    answer = post_decision(client, {"replacement_id": replacement_id, "decision": "approved"}, "dec-9")
    assert answer.status_code == 200, answer.json
    drain()
    assert _state(session, replacement_id)[0] == "done"
    assert _open_meter(session, smart_site.ids["A1"]) == ["SM2"]
    assert len(billing.requests) == 2  # nothing posted again after the decision


def test_a_meter_that_does_not_answer_goes_back_to_the_field_officer(
    client: FlaskClient,
    session: Any,
    smart_site: Site,
    make_api_key: Any,
    run_jobs: Any,
    drain: Any,
    hes_sim: Any,
    billing: Any,
) -> None:
    hes_sim.outcome = "meter_offline"
    key = make_api_key("assets:write", system="field-app")
    replacement_id = submit_to_billing(client, key, run_jobs, drain, hes_sim, BODY)
    state, reason = _state(session, replacement_id)
    assert state == "rejected" and reason is not None and "meter_offline" in reason
    assert billing.requests == []  # never posted
    instance_id = session.execute(
        text("SELECT instance_id FROM meter_replacements WHERE id = :i"), {"i": replacement_id}
    ).scalar_one()
    assert [i.bpmn_id for i in open_items(instance_id)] == ["rejected_replacement"]


def test_a_smart_report_for_a_scalar_new_meter_is_refused_and_starts_nothing(
    client: FlaskClient, session: Any, smart_site: Site, make_api_key: Any
) -> None:
    key = make_api_key("assets:write", system="field-app")
    answer = client.post("/api/v1/replacements", json={**BODY, "new_meter_serial": "N1"}, headers=key)
    assert (answer.status_code, answer.json["error"]) == (422, "not_smart")
    assert session.execute(text("SELECT count(*) FROM process_instances")).scalar_one() == 0


@pytest.mark.parametrize(
    ("register", "reason"),
    [
        (None, "the commissioning read returned no kWh register value"),
        (0.1, "the commissioning read 0.1 kWh is below the initial read 0.400 kWh"),
    ],
)
def test_a_commissioning_read_without_a_plausible_register_goes_back_to_the_field_officer(
    client: FlaskClient,
    session: Any,
    smart_site: Site,
    make_api_key: Any,
    run_jobs: Any,
    drain: Any,
    hes_sim: Any,
    billing: Any,
    register: float | None,
    reason: str,
) -> None:
    """The meter answers the read, but with no kWh register (or one below the field's initial
    read): not commissioned, never posted to billing, the officer sees why."""
    hes_sim.register_kwh = register
    key = make_api_key("assets:write", system="field-app")
    replacement_id = submit_to_billing(client, key, run_jobs, drain, hes_sim, BODY)
    assert _state(session, replacement_id) == ("rejected", reason)
    assert billing.requests == []
    instance_id = session.execute(
        text("SELECT instance_id FROM meter_replacements WHERE id = :i"), {"i": replacement_id}
    ).scalar_one()
    [item] = open_items(instance_id)
    assert item.bpmn_id == "rejected_replacement" and item.data["decision"]["reason"] == reason
    assert _open_meter(session, smart_site.ids["A1"]) == ["S1"]


def test_the_commissioning_register_is_carried_to_the_process(
    client: FlaskClient,
    session: Any,
    smart_site: Site,
    make_api_key: Any,
    run_jobs: Any,
    drain: Any,
    hes_sim: Any,
    billing: Any,
) -> None:
    hes_sim.registers["SM2"] = 0.4  # equal to the initial read: plausible
    key = make_api_key("assets:write", system="field-app")
    replacement_id = submit_to_billing(client, key, run_jobs, drain, hes_sim, BODY)
    assert _state(session, replacement_id) == ("awaiting_billing", None)
    reply = session.execute(
        text("SELECT r.body FROM hes_command_replies r JOIN hes_commands c ON c.id = r.command_pk"
             " WHERE c.command_id = :c AND r.kind = 'reply'"), {"c": f"commission-{replacement_id}"},
    ).scalar_one()  # fmt: skip
    assert b'"reading": {"kwh": 0.4}' in bytes(reply)
