"""From approved orders to HES commands, and from finished commands back to the orders: supply
status, the consumer's SMS through the notifications area, incidents, and the process message."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.audit.log import Actor
from service.commands import HesCommand, issuing
from service.commands.issuing import CommandOrder
from service.disconnections.models import ListOrder, ListPart
from service.masterdata.supply import consumers_by_ivrs, set_supply_status
from service.notifications.sending import notify
from service.outbox.handlers import PermanentError
from service.processes.runtime import deliver_message, lock_instance, open_incident

ACTOR = Actor("system", "disconnections")
KIND = {"disconnect": ("disconnect", "disconnected", "disconnection_part_done", "disconnected_for_dues"),
        "reconnect": ("connect", "connected", "reconnection_part_done", "reconnection")}  # fmt: skip
# (session, part, how many commands) -> when they may go out (None = now): the safety rules.
Window = Callable[[Session, ListPart, int], datetime | None]


def kind_of(part: ListPart) -> str:
    return part.part_key.split(":", 1)[0]


def check_confirmed(session: Session, part_id: int) -> None:
    """Refuse (an incident, not a command) a DO part that reached sending without its OTP."""
    part = session.get(ListPart, part_id)
    if part is None:
        raise PermanentError(f"no DO-list part {part_id}")
    if kind_of(part) == "disconnect" and part.confirmed_at is None:
        raise PermanentError(f"part {part.part_key} has no OTP confirmation: no command is sent")


def send_part(session: Session, part_id: int, window: Window, now: datetime) -> dict[str, Any]:
    """Commands for the part's pending orders (held until the allowed window, if the rules say so)."""
    part = session.get(ListPart, part_id, with_for_update=True)
    assert part is not None
    action = KIND[kind_of(part)][0]
    orders = list(
        session.scalars(
            select(ListOrder)
            .where(ListOrder.part_id == part.id, ListOrder.state == "pending")
            .order_by(ListOrder.id)
        )
    )
    facts = consumers_by_ivrs(session, [o.ivrs_number for o in orders])
    commands = []
    for order in orders:
        fact = facts[order.ivrs_number]
        assert fact.meter_id is not None and fact.meter_serial and fact.hes_code
        commands.append(CommandOrder(
            f"{action[0].upper()}{order.id}", action, fact.meter_id, fact.meter_serial, fact.hes_code,
            part.division_id, fact.consumer_id,
        ))  # fmt: skip
    not_before = window(session, part, len(commands)) if action == "disconnect" else None
    ids = issuing.create(session, commands, batch_key=part.part_key[:64], not_before=not_before)
    for order, command in zip(orders, commands, strict=True):
        order.state, order.command_pk = "commanded", ids[command.command_id]
    issuing.schedule(session, list(ids.values()), not_before=not_before)
    part.state = "commanding"
    finish_part_if_done(session, part)
    return {"commands": len(commands), "held_until": not_before.isoformat() if not_before else None}


def on_commands_finished(session: Session, commands: list[HesCommand]) -> None:
    """Listener of service.commands: record each result on its order, then close finished parts."""
    by_pk = {c.id: c for c in commands}
    orders = list(
        session.scalars(select(ListOrder).where(ListOrder.command_pk.in_(list(by_pk))).with_for_update())
    )
    if not orders:
        return
    parts = {
        p.id: p for p in session.scalars(select(ListPart).where(ListPart.id.in_({o.part_id for o in orders})))
    }
    now = datetime.now(UTC)
    supply: dict[str, list[int]] = defaultdict(list)
    timed_out: dict[int, list[str]] = defaultdict(list)
    for order in orders:
        command, part = by_pk[order.command_pk], parts[order.part_id]  # type: ignore[index]
        _, status, _, message_type = KIND[kind_of(part)]
        order.finished_at = now
        if command.state == "succeeded":
            order.state, order.reason = "done", None
            supply[status].append(int(order.consumer_id))  # type: ignore[arg-type]
            notify(
                session, consumer_id=order.consumer_id, message_type=message_type,
                params=_sms_params(message_type, order, now), dedupe_key=f"hes-command:{command.command_id}",
            )  # fmt: skip
        elif command.state == "cancelled":
            order.state = "cancelled"
        else:
            order.state, order.reason = "failed", f"{command.state}: {command.reason}"
            if command.state == "timed_out":
                timed_out[part.id].append(command.command_id)
    for status, consumer_ids in supply.items():
        set_supply_status(session, consumer_ids, status)
    for part_id, command_ids in timed_out.items():
        part = parts[part_id]
        if part.instance_id is not None:
            instance = lock_instance(session, part.instance_id)
            error = f"HES did not answer {len(command_ids)} command(s): {', '.join(command_ids[:20])}"
            open_incident(
                session, instance, "", "commands_done", "service", "hes.disconnect", None, error, ACTOR
            )
    session.flush()
    for part_id in sorted(parts):  # one lock order, so two callbacks never deadlock
        finish_part_if_done(session, parts[part_id])


def _sms_params(message_type: str, order: ListOrder, now: datetime) -> dict[str, str]:
    from service.web.times import to_ist

    local = to_ist(now)
    stamp = local.strftime("%d-%m-%Y %H:%M") if local else ""
    if message_type == "reconnection":
        return {"ivrs": order.ivrs_number, "time": stamp}
    return {"ivrs": order.ivrs_number, "amount_inr": str(order.amount_due_inr or "0"), "time": stamp}


def finish_part_if_done(session: Session, part: ListPart) -> None:
    """Send the part's message once no order is open. Callbacks finish orders concurrently: each
    writes its orders first, then takes the part's lock and counts what is committed, so the
    last one to count sees every order finished (and only one sends the message)."""
    session.flush()
    locked = session.get(ListPart, part.id, with_for_update=True, populate_existing=True)
    if locked is None or locked.state != "commanding":
        return
    part = locked
    counts = dict(
        session.execute(
            select(ListOrder.state, func.count())
            .where(ListOrder.part_id == part.id)
            .group_by(ListOrder.state)
        )
        .tuples()
        .all()
    )
    if counts.get("pending") or counts.get("commanded"):
        return
    part.state = "finished"
    name = KIND[kind_of(part)][2]
    payload = {"done": counts.get("done", 0), "failed": counts.get("failed", 0),
               "cancelled": counts.get("cancelled", 0), "dropped": counts.get("dropped", 0)}  # fmt: skip
    deliver_message(session, name, part.part_key, payload, ACTOR)
