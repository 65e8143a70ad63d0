"""HES commands end to end: sent in batches to the simulator (both wire forms), answered by callback
or poll, re-sent when silent, timed out; the API shows exactly what the simulator received."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from integrations.cim.simulator import billion_laughs
from integrations.hes.command_simulator import HesCommandSimulator
from service.commands import issuing
from service.commands.issuing import CommandOrder
from service.commands.models import HesCommand, HesCommandReply
from service.outbox.jobs import sweep


def _orders(n: int, action: str = "disconnect", hes: str = "HES-A", prefix: str = "T") -> list[CommandOrder]:
    return [CommandOrder(f"{prefix}-{i}", action, 100 + i, f"SM{i:05d}", hes, 1, 500 + i) for i in range(n)]


def _issue(session: Any, orders: list[CommandOrder]) -> list[int]:
    ids = issuing.create(session, orders, batch_key="test:1")
    issuing.schedule(session, list(ids.values()))
    session.commit()
    return list(ids.values())


def _read_key(make_api_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_api_key("hes:read", system="ops")


@pytest.mark.parametrize("wire_form", ["json", "cim"])
def test_commands_reach_the_simulator_and_the_api_shows_the_exact_bytes(
    wire_form: str, session: Any, client: FlaskClient, hes_sim: HesCommandSimulator, add_hes: Any,
    run_jobs: Any, make_api_key: Any,
) -> None:  # fmt: skip
    add_hes("HES-A", hes_sim.base_url, wire_form, batch_size=2, rate_per_second=1000)  # type: ignore[attr-defined]
    _issue(session, _orders(5))
    run_jobs("default")
    hes_sim.wait_idle()
    assert hes_sim.callback_errors == []
    assert len(hes_sim.received) == 5
    headers = _read_key(make_api_key)
    for received in hes_sim.received:
        shown = client.get(f"/api/v1/hes/commands/{received.command_id}", headers=headers).get_json()
        assert shown["message"].encode() == received.body
        assert shown["state"] == "succeeded"
        assert shown["relay"] == "disconnected"
        assert shown["wire_form"] == wire_form
        kinds = sorted(r["kind"] for r in shown["replies"])
        assert kinds == ["ack", "relay_event", "reply"]
        assert shown["timings"]["sent_at"].endswith("+05:30")
    # Three HES batches of at most two commands: three send items.
    assert session.scalar(select(func.count()).select_from(HesCommand).where(HesCommand.attempts == 1)) == 5


@pytest.mark.parametrize("wire_form", ["json", "cim"])
def test_failures_are_recorded_with_the_hes_reason(
    wire_form: str, session: Any, hes_sim: HesCommandSimulator, add_hes: Any, run_jobs: Any
) -> None:
    add_hes("HES-A", hes_sim.base_url, wire_form, rate_per_second=1000)  # type: ignore[attr-defined]
    hes_sim.outcomes = {"SM00000": "meter_offline", "SM00001": "relay_fault"}
    _issue(session, _orders(3))
    run_jobs("default")
    hes_sim.wait_idle()
    session.expire_all()
    states = {c.meter_serial: (c.state, c.reason, c.relay) for c in session.scalars(select(HesCommand))}
    assert states == {
        "SM00000": ("failed", "meter_offline", None),
        "SM00001": ("failed", "relay_fault", None),
        "SM00002": ("succeeded", None, "disconnected"),
    }


def test_silence_is_resent_with_the_same_bytes_then_times_out(
    session: Any, hes_sim: HesCommandSimulator, add_hes: Any, run_jobs: Any
) -> None:
    add_hes("HES-A", hes_sim.base_url, "cim", reply_timeout_seconds=1, max_attempts=2)  # type: ignore[attr-defined]
    hes_sim.outcome = "silence"
    _issue(session, _orders(2))
    run_jobs("default")
    assert len(hes_sim.received) == 2
    time.sleep(1.1)  # the reply timeout passes (1 s): the check re-sends
    sweep()
    run_jobs("default")
    assert len(hes_sim.received) == 4
    first, again = hes_sim.received[0], hes_sim.received[2]
    assert (first.command_id, first.body) == (again.command_id, again.body)
    session.expire_all()
    assert {c.state for c in session.scalars(select(HesCommand))} == {"acknowledged"}
    time.sleep(2.1)  # back-off doubles: the second check finds no answer and gives up
    sweep()
    run_jobs("default")
    session.expire_all()
    commands = list(session.scalars(select(HesCommand)))
    assert {(c.state, c.attempts) for c in commands} == {("timed_out", 2)}
    assert commands[0].reason == "no answer from HES-A after 2 attempt(s)"


def test_a_hes_without_callbacks_is_polled(session: Any, add_hes: Any, run_jobs: Any) -> None:
    simulator = HesCommandSimulator()  # no callback URL: results only by GET /commands/<id>
    base = simulator.start()
    try:
        add_hes("HES-P", base, "json", has_callback=False, reply_timeout_seconds=1)
        _issue(session, _orders(2, hes="HES-P", action="connect"))
        run_jobs("default")
        simulator.wait_idle()
        time.sleep(1.1)
        sweep()
        run_jobs("default")
    finally:
        simulator.stop()
    session.expire_all()
    assert {(c.state, c.relay) for c in session.scalars(select(HesCommand))} == {("succeeded", "connected")}
    assert (
        session.scalar(
            select(func.count()).select_from(HesCommandReply).where(HesCommandReply.kind == "poll")
        )
        == 2
    )


def _one_command(session: Any) -> HesCommand:
    issuing.upsert_hes_system(session, "HES-A", base_url="http://127.0.0.1:9", wire_form="json")
    issuing.create(session, _orders(1), batch_key="test:1")
    session.commit()
    return session.scalars(select(HesCommand)).one()


def test_a_repeated_callback_changes_nothing(session: Any, client: FlaskClient, make_api_key: Any) -> None:
    _one_command(session)
    headers = make_api_key("hes:write", system="hes-a")
    body = {"command_id": "T-0", "status": "success", "relay": "disconnected"}
    first = client.post("/api/v1/hes/callbacks", json=body, headers=headers)
    again = client.post("/api/v1/hes/callbacks", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.get_json() == {"applied": 1, "duplicates": 0, "unknown": []}
    assert again.get_json() == {"applied": 0, "duplicates": 1, "unknown": []}
    assert session.scalar(select(func.count()).select_from(HesCommandReply)) == 1
    late_failure = {"command_id": "T-0", "status": "failed", "reason": "relay_fault"}
    client.post("/api/v1/hes/callbacks", json=late_failure, headers=headers)
    session.expire_all()
    command = session.scalars(select(HesCommand)).one()
    assert (command.state, command.reason) == ("succeeded", None)  # the first final outcome stays


def test_a_relay_event_before_the_reply_finishes_the_command(
    session: Any, client: FlaskClient, make_api_key: Any
) -> None:
    _one_command(session)
    headers = make_api_key("hes:write", system="hes-a")
    event = {"event": {"meter": "SM00000", "code": 301, "at": "2026-12-02T10:00:00+05:30"}}
    answer = client.post("/api/v1/hes/callbacks", json=event, headers=headers)
    found = answer.get_json()
    assert (found["applied"], found["duplicates"], found["unknown"]) == (1, 0, [])
    assert found["events"]["quarantined"] == 1  # the event store keeps it (no such meter in master data)
    session.expire_all()
    command = session.scalars(select(HesCommand)).one()
    assert (command.state, command.relay) == ("succeeded", "disconnected")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b"{not json", "application/json", 400, "unreadable_callback"),
        (b'{"command_id": "T-0", "status": "maybe"}', "application/json", 400, "unreadable_callback"),
        (b'{"command_id": "NOPE", "status": "success"}', "application/json", 404, "unknown_command"),
        (billion_laughs(), "application/xml", 400, "unreadable_callback"),
        (
            b"<ResponseMessage xmlns='urn:evil'><Header/></ResponseMessage>",
            "application/xml",
            400,
            "unreadable_callback",
        ),
        (b"[]", "application/json", 422, "no_outcomes"),
        (b"x" * (1024 * 1024 + 1), "application/json", 413, "too_large"),
    ],
    ids=["bad-json", "bad-status", "unknown", "billion-laughs", "foreign-ns", "empty", "oversized"],
)
def test_bad_callbacks_are_refused_and_store_nothing(
    body: bytes,
    content_type: str,
    status: int,
    error: str,
    session: Any,
    client: FlaskClient,
    make_api_key: Any,
) -> None:
    _one_command(session)
    headers = make_api_key("hes:write", system="hes-a")
    answer = client.post("/api/v1/hes/callbacks", data=body, content_type=content_type, headers=headers)
    assert (answer.status_code, answer.get_json()["error"]) == (status, error)
    assert session.scalar(select(func.count()).select_from(HesCommandReply)) == 0
    session.expire_all()
    assert session.scalars(select(HesCommand)).one().state == "queued"


def test_callbacks_need_the_hes_scope(session: Any, client: FlaskClient, make_api_key: Any) -> None:
    _one_command(session)
    answer = client.post(
        "/api/v1/hes/callbacks", json={"command_id": "T-0", "status": "success"},
        headers=make_api_key("readings:write"),
    )  # fmt: skip
    assert (answer.status_code, answer.get_json()["error"]) == (403, "insufficient_scope")
    assert session.scalar(select(func.count()).select_from(HesCommandReply)) == 0


def test_a_command_outside_the_keys_org_unit_is_not_shown(
    session: Any, client: FlaskClient, make_api_key: Any
) -> None:
    from service.masterdata.models import OrgUnit

    session.add_all([
        OrgUnit(id=1, code="D1", name="Division 1", level="division", path="/D1/"),
        OrgUnit(id=2, code="D2", name="Division 2", level="division", path="/D2/"),
    ])  # fmt: skip
    session.commit()
    _one_command(session)  # in org unit 1
    assert (
        client.get("/api/v1/hes/commands/T-0", headers=make_api_key("hes:read", org_unit_id=2)).status_code
        == 404
    )
    assert (
        client.get("/api/v1/hes/commands/T-0", headers=make_api_key("hes:read", org_unit_id=1)).status_code
        == 200
    )
