"""Creating HES commands and scheduling their sending in batches per HES (outbox items)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from integrations.hes.commands import ACTIONS, WIRE_FORMS
from service.commands.models import FINAL_STATES, HesCommand, HesSystem
from service.outbox import outbox

SEND_OPERATION = "hes.send"
CHECK_OPERATION = "hes.check"
QUEUE = "default"


@dataclass(frozen=True)
class CommandOrder:
    command_id: str
    action: str
    meter_id: int
    meter_serial: str
    hes_code: str
    org_unit_id: int
    consumer_id: int | None = None


class UnknownHes(ValueError):
    pass


def upsert_hes_system(session: Session, code: str, **values: Any) -> HesSystem:
    """Master data of one HES (wire form, URL, batch size, rate, reply timeout)."""
    if values.get("wire_form") not in (None, *WIRE_FORMS):
        raise ValueError(f"wire_form must be one of {WIRE_FORMS}")
    system = session.scalar(select(HesSystem).where(HesSystem.code == code))
    if system is None:
        system = HesSystem(code=code, **values)
        session.add(system)
    else:
        for key, value in values.items():
            setattr(system, key, value)
    session.flush()
    return system


def hes_systems(session: Session, codes: Iterable[str]) -> dict[str, HesSystem]:
    wanted = sorted(set(codes))
    return {s.code: s for s in session.scalars(select(HesSystem).where(HesSystem.code.in_(wanted)))}


def create(
    session: Session, orders: Sequence[CommandOrder], *, batch_key: str | None = None,
    not_before: datetime | None = None,
) -> dict[str, int]:  # fmt: skip
    """Insert commands (an existing command id is kept as it is); returns command id -> row id."""
    if not orders:
        return {}
    systems = hes_systems(session, (o.hes_code for o in orders))
    for order in orders:
        if order.action not in ACTIONS:
            raise ValueError(f"unknown action {order.action!r}")
        if order.hes_code not in systems:
            raise UnknownHes(f"meter {order.meter_serial}: HES {order.hes_code!r} is not in master data")
    rows = [
        dict(
            command_id=o.command_id, action=o.action, meter_id=o.meter_id, meter_serial=o.meter_serial,
            hes_code=o.hes_code, org_unit_id=o.org_unit_id, consumer_id=o.consumer_id, batch_key=batch_key,
            wire_form=systems[o.hes_code].wire_form, state="held" if not_before else "queued",
            not_before=not_before,
        )
        for o in orders
    ]  # fmt: skip
    ids: dict[str, int] = {}
    for start in range(0, len(rows), 5000):
        stmt = (
            insert(HesCommand)
            .values(rows[start : start + 5000])
            .on_conflict_do_nothing(index_elements=["command_id"])
        )
        session.execute(stmt)
    found = session.execute(
        select(HesCommand.command_id, HesCommand.id).where(
            HesCommand.command_id.in_([o.command_id for o in orders])
        )
    )
    ids.update({row.command_id: row.id for row in found})
    return ids


def schedule(session: Session, command_pks: Sequence[int], *, not_before: datetime | None = None) -> int:
    """Outbox items that send these queued commands, one per HES batch; returns how many items."""
    rows = session.execute(
        select(HesCommand.id, HesCommand.hes_code)
        .where(HesCommand.id.in_(list(command_pks)), HesCommand.state.in_(("queued", "held")))
        .order_by(HesCommand.id)
    ).all()
    per_hes: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        per_hes[row.hes_code].append(row.id)
    systems = hes_systems(session, per_hes)
    items = 0
    for code, pks in per_hes.items():
        size = systems[code].batch_size
        for start in range(0, len(pks), size):
            chunk = pks[start : start + size]
            outbox.add(
                session, SEND_OPERATION, {"hes_code": code, "command_pks": chunk},
                dedupe_key=f"hes-send:{chunk[0]}:{len(chunk)}:{not_before.isoformat() if not_before else ''}",
                queue=QUEUE, not_before=not_before,
            )  # fmt: skip
            items += 1
    if not_before is not None:
        session.execute(
            update(HesCommand)
            .where(HesCommand.id.in_([r.id for r in rows]))
            .values(state="held", not_before=not_before)
        )
    return items


def cancel(session: Session, command_pks: Sequence[int], reason: str, now: datetime) -> list[int]:
    """Cancel commands not yet sent; returns the ones cancelled (a sent command cannot be)."""
    cancelled = session.execute(
        update(HesCommand)
        .where(HesCommand.id.in_(list(command_pks)), HesCommand.state.in_(("queued", "held")))
        .values(state="cancelled", reason=reason, finished_at=now)
        .returning(HesCommand.id)
    ).scalars()
    return list(cancelled)


def is_final(state: str) -> bool:
    return state in FINAL_STATES
