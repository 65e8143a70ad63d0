"""Outbox operations that talk to a HES: `hes.send` (a batch, paced to the HES's rate) and
`hes.check` (after the reply timeout: poll, re-send the unanswered with back-off, then time out).

Handlers only talk to the HES and return what happened (base64 bytes); `on_done` writes it in
the transaction that marks the outbox item done, so a re-run of a handler writes nothing twice.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.canonical import ParseError
from integrations.hes.commands import Command, HesClient, Pacer, Sent
from integrations.hes.replies import Outcome, read_callback
from service.audit.log import Actor, record_many
from service.commands import replies
from service.commands.issuing import CHECK_OPERATION, QUEUE, SEND_OPERATION, hes_systems
from service.commands.models import FINAL_STATES, HesCommand, HesSystem
from service.outbox import OutboxItem, outbox
from service.outbox.handlers import register
from service.ports import Adapters

OPEN_STATES = ("queued", "held", "sent", "acknowledged")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _sent_dict(command: HesCommand, sent: Sent) -> dict[str, Any]:
    return {
        "pk": command.id, "message": _b64(sent.message), "content_type": sent.content_type,
        "http_status": sent.http_status, "answer": _b64(sent.answer), "error": sent.error,
    }  # fmt: skip


def _commands(
    session: Session, pks: list[int], states: tuple[str, ...], *, lock: bool = False
) -> list[HesCommand]:
    stmt = (
        select(HesCommand).where(HesCommand.id.in_(pks), HesCommand.state.in_(states)).order_by(HesCommand.id)
    )
    if lock:
        # A callback may finish a command while its acknowledgement is being written: lock, and
        # re-read the state after the lock, so the later writer never undoes the earlier one.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return list(session.scalars(stmt))


def _deliver(client: HesClient, command: HesCommand) -> Sent:
    if command.message is not None and command.content_type:
        return client.resend(command.command_id, command.message, command.content_type)
    return client.send(Command(command.command_id, command.action, command.meter_serial))


def register_operations(pacer_sleep: Callable[[float], None] | None = None) -> None:
    """Register hes.send / hes.check; they reach the HES through the app's `hes_for` adapter."""

    def pacer(system: HesSystem) -> Pacer:
        return (
            Pacer(system.rate_per_second)
            if pacer_sleep is None
            else Pacer(system.rate_per_second, sleep=pacer_sleep)
        )

    def send(
        session: Session, payload: dict[str, Any], item: OutboxItem, adapters: Adapters
    ) -> dict[str, Any]:
        system = hes_systems(session, [payload["hes_code"]])[payload["hes_code"]]
        client, pace = adapters.hes_for(system), pacer(system)
        sent = []
        for command in _commands(session, list(payload["command_pks"]), ("queued", "held")):
            pace.wait()
            sent.append(_sent_dict(command, _deliver(client, command)))
        return {"sent": sent, "paced_seconds": round(pace.waited_seconds, 3)}

    def check(
        session: Session, payload: dict[str, Any], item: OutboxItem, adapters: Adapters
    ) -> dict[str, Any]:
        system = hes_systems(session, [payload["hes_code"]])[payload["hes_code"]]
        client = adapters.hes_for(system)
        open_commands = _commands(session, list(payload["command_pks"]), OPEN_STATES)
        polled = []
        if not system.has_callback:
            for command in open_commands:
                answer = client.poll(command.command_id)
                if answer is not None and answer.get("status") in ("success", "failed"):
                    polled.append({"pk": command.id, "answer": answer})
        answered = {p["pk"] for p in polled}
        remaining = [c for c in open_commands if c.id not in answered]
        attempt = int(payload.get("attempt", 1))
        resent = []
        if attempt < system.max_attempts:
            pace = pacer(system)
            for command in remaining:
                pace.wait()
                resent.append(_sent_dict(command, _deliver(client, command)))
        return {
            "polled": polled,
            "resent": resent,
            "remaining": [c.id for c in remaining],
            "attempt": attempt,
        }

    register(SEND_OPERATION, send, on_done=_sent_done)
    register(CHECK_OPERATION, check, on_done=_checked)


def _apply_sent(session: Session, entries: list[dict[str, Any]], now: datetime) -> list[HesCommand]:
    """Write each delivery: the bytes sent, the acknowledgement as a reply; refusals fail.

    A callback can beat the acknowledgement: the bytes are written all the same, the state only
    moves while the command is open.
    """
    states = (*OPEN_STATES, *FINAL_STATES)
    by_pk = {c.id: c for c in _commands(session, [e["pk"] for e in entries], states, lock=True)}
    failed = []
    for entry in entries:
        command = by_pk.get(entry["pk"])
        if command is None:
            continue
        message, answer = base64.b64decode(entry["message"]), base64.b64decode(entry["answer"])
        command.message, command.content_type = message, entry["content_type"]
        command.attempts += 1
        command.sent_at = command.sent_at or now
        is_open = command.state in OPEN_STATES
        status = entry["http_status"]
        if status is not None and 200 <= status < 300:
            if is_open:
                command.state = "acknowledged"
            command.acknowledged_at = command.acknowledged_at or now
            replies.add_reply(session, command, "ack", str(status), answer, None)
        elif status is not None and 400 <= status < 500 and status not in (408, 429):
            replies.add_reply(session, command, "error", str(status), answer, None)
            if replies.finish(session, command, "failed", f"HES refused the command: HTTP {status}", now):
                failed.append(command)
        else:  # transport error or 5xx: the check re-sends it
            if is_open:
                command.state = "sent"
            note = (entry["error"] or f"HTTP {status}").encode()
            replies.add_reply(session, command, "error", "transport", note + b"\n" + answer, None)
    return failed


def _schedule_check(session: Session, system: HesSystem, pks: list[int], attempt: int, now: datetime) -> None:
    # Back-off: the reply timeout, doubled for each re-send.
    wait = timedelta(seconds=system.reply_timeout_seconds * 2 ** (attempt - 1))
    outbox.add(
        session, CHECK_OPERATION, {"hes_code": system.code, "command_pks": pks, "attempt": attempt},
        dedupe_key=f"hes-check:{pks[0]}:{len(pks)}:{attempt}", queue=QUEUE, not_before=now + wait,
    )  # fmt: skip


def _sent_done(session: Session, item: OutboxItem, result: dict[str, Any] | None) -> None:
    now = datetime.now(UTC)
    entries = list((result or {}).get("sent") or [])
    failed = _apply_sent(session, entries, now)
    replies.notify_finished(session, failed)
    pks = [e["pk"] for e in entries]
    if pks:
        system = hes_systems(session, [item.payload["hes_code"]])[item.payload["hes_code"]]
        _schedule_check(session, system, pks, 1, now)


def _checked(session: Session, item: OutboxItem, result: dict[str, Any] | None) -> None:
    now = datetime.now(UTC)
    result = result or {}
    system = hes_systems(session, [item.payload["hes_code"]])[item.payload["hes_code"]]
    for polled in result.get("polled") or []:
        answer = polled["answer"]
        command = session.get(HesCommand, polled["pk"])
        if command is None:
            continue
        body = json.dumps(answer, sort_keys=True).encode()
        try:  # the callback's parser (status, reason, relay, a read's register)
            [outcome] = read_callback(json.dumps({**answer, "command_id": command.command_id}).encode(),
                                      "application/json")  # fmt: skip
        except ParseError as exc:
            outcome = Outcome(command.command_id, "reply", False, f"unreadable poll answer: {exc}"[:200])
        replies.record(session, [outcome], body, "application/json", now, kind_override="poll")
    failed = _apply_sent(session, list(result.get("resent") or []), now)
    replies.notify_finished(session, failed)
    still_open = _commands(session, list(result.get("remaining") or []), OPEN_STATES, lock=True)
    if not still_open:
        return
    attempt = int(result.get("attempt", 1))
    if result.get("resent"):
        _schedule_check(session, system, [c.id for c in still_open], attempt + 1, now)
        return
    timed_out = []
    for command in still_open:
        reason = f"no answer from {system.code} after {command.attempts} attempt(s)"
        if replies.finish(session, command, "timed_out", reason, now):
            timed_out.append(command)
    record_many(
        session, Actor("system", "hes"), "hes_command_timed_out", "hes_command",
        [(c.command_id, None, {"reason": c.reason}) for c in timed_out],
    )  # fmt: skip
    replies.notify_finished(session, timed_out)
