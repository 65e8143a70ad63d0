"""Recording what a HES says about commands: acknowledgements, callbacks, polls, relay events.

Idempotent: a reply is stored once per command and body (sha256); the first final outcome wins,
later ones are kept as replies but change nothing. Listeners hear of commands that finished.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from integrations.hes.replies import Outcome
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


def add_reply(
    session: Session,
    command: HesCommand,
    kind: str,
    outcome: str | None,
    body: bytes,
    content_type: str | None,
) -> bool:
    """Store one reply; False when the same reply was stored before."""
    stmt = (
        insert(HesCommandReply)
        .values(
            command_pk=command.id, kind=kind, outcome=outcome, body=body, content_type=content_type,
            digest=digest(kind, body, command.command_id),
        )
        .on_conflict_do_nothing(constraint="uq_hes_command_replies_digest")
        .returning(HesCommandReply.id)
    )  # fmt: skip
    return session.execute(stmt).scalar_one_or_none() is not None


def finish(session: Session, command: HesCommand, state: str, reason: str | None, now: datetime) -> bool:
    """Move a command to a final state once; True when this call did it."""
    if command.state in FINAL_STATES:
        return False
    command.state, command.reason, command.finished_at = state, reason, now
    return True


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


def record(
    session: Session, outcomes: Sequence[Outcome], body: bytes, content_type: str | None, now: datetime,
    kind_override: str | None = None,
) -> Recorded:  # fmt: skip
    """Apply the outcomes of one received message (callback or poll answer)."""
    result = Recorded()
    finished: list[HesCommand] = []
    for outcome in outcomes:
        command = _command_for(session, outcome)
        if command is None:
            result.unknown.append(outcome.command_id or f"meter {outcome.meter}")
            continue
        kind = kind_override or outcome.kind
        word = outcome.relay if outcome.kind == "relay_event" else ("ok" if outcome.ok else outcome.reason)
        if not add_reply(session, command, kind, word, body, content_type):
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
