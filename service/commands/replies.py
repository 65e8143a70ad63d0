"""Recording what a HES says about commands: acknowledgements, callbacks, polls, relay events.

Idempotent: a reply is stored once per command and body (sha256); the first final outcome wins,
later ones are kept as replies but change nothing. Listeners hear of commands that finished.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from integrations.canonical import ParseError
from integrations.hes.replies import Outcome, read_callback
from service.commands.models import FINAL_STATES, HesCommand, HesCommandReply

# listener(session, finished commands): the processes that wait on commands hook in here.
FinishedListener = Callable[[Session, list[HesCommand]], None]
FINISHED_LISTENERS: list[FinishedListener] = []


@dataclass
class Recorded:
    applied: int = 0
    duplicates: int = 0
    unknown: list[str] = field(default_factory=list)


def digest(kind: str, body: bytes, command_id: str) -> str:
    return hashlib.sha256(kind.encode() + b"\0" + command_id.encode() + b"\0" + body).hexdigest()


def _reply_row(
    command: HesCommand, kind: str, outcome: str | None, body: bytes, content_type: str | None
) -> dict[str, object]:
    return {"command_pk": command.id, "kind": kind, "outcome": outcome, "body": body,
            "content_type": content_type, "digest": digest(kind, body, command.command_id)}  # fmt: skip


def add_reply(
    session: Session,
    command: HesCommand,
    kind: str,
    outcome: str | None,
    body: bytes,
    content_type: str | None,
) -> bool:
    """Store one reply; False when the same reply was stored before."""
    row = _reply_row(command, kind, outcome, body, content_type)
    return row["digest"] in _new_digests(session, [row])


def finish(session: Session, command: HesCommand, state: str, reason: str | None, now: datetime) -> bool:
    """Move a command to a final state once; True when this call did it."""
    if command.state in FINAL_STATES:
        return False
    command.state, command.reason, command.finished_at = state, reason, now
    return True


def register_reading(session: Session, command: HesCommand) -> float | None:
    """The kWh register an on-demand read answered (its newest reply or poll that carries one),
    or None when no reply carried a value."""
    rows = session.execute(
        select(HesCommandReply.body, HesCommandReply.content_type)
        .where(HesCommandReply.command_pk == command.id, HesCommandReply.kind.in_(("reply", "poll")))
        .order_by(HesCommandReply.id.desc())
    ).all()
    for body, content_type in rows:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            continue  # a CIM reply: EndDeviceControls carry no register
        if isinstance(data, dict) and data.get("item_of_list"):  # one item of a list callback
            value = data.get("register_kwh")
        else:
            try:
                outcomes = read_callback(body, content_type or "application/json")
            except ParseError:
                continue
            value = next((o.register_kwh for o in outcomes if o.command_id == command.command_id), None)
        if value is not None:
            return float(value)
    return None


def notify_finished(session: Session, commands: list[HesCommand]) -> None:
    if commands:
        session.flush()
        for listener in FINISHED_LISTENERS:
            listener(session, commands)


def _command_for(session: Session, outcome: Outcome) -> HesCommand | None:
    if outcome.command_id:
        return session.scalar(
            select(HesCommand).where(HesCommand.command_id == outcome.command_id).with_for_update()
        )
    if outcome.kind == "relay_event" and outcome.meter:
        # A relay event without the command it answers: the meter's latest connect/disconnect.
        action = "disconnect" if outcome.relay == "disconnected" else "connect"
        return session.scalar(
            select(HesCommand)
            .where(HesCommand.meter_serial == outcome.meter, HesCommand.action == action)
            .order_by(HesCommand.id.desc())
            .limit(1)
            .with_for_update()
        )
    return None


def _commands_by_id(session: Session, outcomes: Sequence[Outcome]) -> dict[str, HesCommand]:
    """Every command the outcomes name by id, locked in one query (in id order, so two callbacks
    over the same commands never deadlock)."""
    ids = sorted({o.command_id for o in outcomes if o.command_id})
    found: dict[str, HesCommand] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        query = (
            select(HesCommand)
            .where(HesCommand.command_id.in_(chunk))
            .order_by(HesCommand.id)
            .with_for_update()
        )
        found.update({c.command_id: c for c in session.scalars(query)})
    return found


def _item_bytes(outcome: Outcome) -> bytes:
    return json.dumps({"item_of_list": True, **asdict(outcome)}, sort_keys=True).encode()


def _new_digests(session: Session, rows: list[dict[str, object]]) -> set[str]:
    """Insert the replies; the digests of those not stored before."""
    new: set[str] = set()
    for start in range(0, len(rows), 2000):
        stmt = (
            insert(HesCommandReply)
            .values(rows[start : start + 2000])
            .on_conflict_do_nothing(constraint="uq_hes_command_replies_digest")
            .returning(HesCommandReply.digest)
        )
        new.update(session.scalars(stmt))
    return new


def record(
    session: Session, outcomes: Sequence[Outcome], body: bytes, content_type: str | None, now: datetime,
    kind_override: str | None = None,
) -> Recorded:  # fmt: skip
    """Apply the outcomes of one received message (callback or poll answer), set-based: one query
    locks the commands, one insert stores the replies, listeners hear of every finished command once."""
    result = Recorded()
    by_id = _commands_by_id(session, outcomes)
    matched: list[tuple[Outcome, HesCommand, str]] = []
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    for outcome in outcomes:
        command = by_id.get(outcome.command_id) if outcome.command_id else _command_for(session, outcome)
        if command is None:
            result.unknown.append(outcome.command_id or f"meter {outcome.meter}")
            continue
        kind = kind_override or outcome.kind
        word = outcome.relay if outcome.kind == "relay_event" else ("ok" if outcome.ok else outcome.reason)
        # A message of many outcomes is kept once per command as that command's own item (the
        # whole list on every row would store it N times); a message of one outcome as sent.
        item = body if len(outcomes) == 1 else _item_bytes(outcome)
        row = _reply_row(command, kind, word, item, content_type)
        key = str(row["digest"])
        if key in seen:  # the same command twice in one body: one reply
            result.duplicates += 1
            continue
        seen.add(key)
        matched.append((outcome, command, key))
        rows.append(row)
    new = _new_digests(session, rows) if rows else set()
    finished: list[HesCommand] = []
    for outcome, command, key in matched:
        if key not in new:
            result.duplicates += 1
            continue
        result.applied += 1
        if outcome.relay:
            command.relay = outcome.relay
        if command.acknowledged_at is None:
            command.acknowledged_at = now
        state, reason = ("succeeded", None) if outcome.ok else ("failed", outcome.reason or "failed")
        if finish(session, command, state, reason, now):
            finished.append(command)
    notify_finished(session, finished)
    return result
