"""The prepaid relay: connect and disconnect commands to the HES through service.commands, and
what their results do to the account (the disconnected-for-balance flag, supply status, SMS)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands import HesCommand, issuing
from service.commands.issuing import CommandOrder
from service.masterdata.supply import ConsumerSupply, consumers_by_id, set_supply_status
from service.notifications.sending import notify
from service.outbox.handlers import PermanentError
from service.prepaid.models import AutoDisconnection, PrepaidAccount

# Command ids of this package: "PPC<consumer>-<recharge entry>" and "PPD<consumer>-<crossing>".
CONNECT_PREFIX, DISCONNECT_PREFIX = "PPC", "PPD"
IST = ZoneInfo("Asia/Kolkata")


def command(session: Session, consumer_id: int, action: str, command_id: str, *, now: datetime) -> int:
    """Create and schedule one connect/disconnect command now (an existing command id is kept)."""
    supply = consumers_by_id(session, [consumer_id]).get(consumer_id)
    if supply is None or supply.meter_id is None or not supply.meter_serial or not supply.hes_code:
        raise PermanentError(f"consumer {consumer_id} has no meter behind a HES: no {action} command")
    return commands(session, [(consumer_id, command_id)], action, {consumer_id: supply},
                    supply.division_id or supply.org_unit_id)[command_id]  # fmt: skip


def commands(
    session: Session, items: list[tuple[int, str]], action: str, supplies: dict[int, ConsumerSupply],
    org_unit_id: int, *, not_before: datetime | None = None,
) -> dict[str, int]:  # fmt: skip
    """Create and schedule (consumer, command id) commands of one division, held until
    `not_before` if given; returns command id -> command row id."""
    orders = [
        CommandOrder(command_id, action, supplies[cid].meter_id, supplies[cid].meter_serial,  # type: ignore[arg-type]
                     supplies[cid].hes_code, org_unit_id, cid)  # type: ignore[arg-type]
        for cid, command_id in items
    ]  # fmt: skip
    ids = issuing.create(session, orders, batch_key=f"prepaid:{action}", not_before=not_before)
    issuing.schedule(session, list(ids.values()), not_before=not_before)
    return ids


def on_commands_finished(
    session: Session, commands: list[HesCommand], now: datetime, reconnect_above_inr: Decimal
) -> None:
    """What a prepaid connect or disconnect that the HES finished does (service.commands'
    listener, registered by the package with the app's clock and rules). A disconnection that
    failed frees the account for the next run; one carried out after a recharge already lifted
    the balance (the command was on its way) is followed by a connect at once."""
    mine = [
        c for c in commands
        if c.consumer_id is not None and c.command_id.startswith((CONNECT_PREFIX, DISCONNECT_PREFIX))
    ]  # fmt: skip
    if not mine:
        return
    accounts = {
        a.consumer_id: a
        for a in session.scalars(
            select(PrepaidAccount)
            .where(PrepaidAccount.consumer_id.in_([c.consumer_id for c in mine]))
            .order_by(PrepaidAccount.consumer_id)
            .with_for_update()
        )
    }
    rows = {
        r.command_id: r
        for r in session.scalars(
            select(AutoDisconnection).where(AutoDisconnection.command_id.in_([c.command_id for c in mine]))
        )
    }
    connected, disconnected, reconnect = [], [], []
    for c in mine:
        account = accounts.get(int(c.consumer_id))  # type: ignore[arg-type]
        if account is None:
            continue
        row = rows.get(c.command_id)
        if c.state != "succeeded":
            if row is not None and c.state != "cancelled":
                row.state, row.finished_at, row.reason = "failed", now, f"{c.state}: {c.reason or ''}"[:200]
                if account.disconnection_id == row.id:
                    account.disconnection_id, account.disconnect_due_since = None, None
            continue
        if c.command_id.startswith(CONNECT_PREFIX):
            account.disconnected_for_balance, account.disconnect_due_since = False, None
            connected.append(account.consumer_id)
        else:
            account.disconnected_for_balance = True
            disconnected.append(account.consumer_id)
            if row is not None:
                row.state, row.finished_at = "disconnected", now
                if account.disconnection_id == row.id:
                    account.disconnection_id = None
                if account.balance_inr > reconnect_above_inr:
                    reconnect.append(
                        (account.consumer_id, f"{CONNECT_PREFIX}{account.consumer_id}-D{row.id}")
                    )
        _tell(session, account.consumer_id, c, now)
    set_supply_status(session, connected, "connected")
    set_supply_status(session, disconnected, "disconnected")
    for consumer_id, command_id in reconnect:
        command(session, consumer_id, "connect", command_id, now=now)


def _tell(session: Session, consumer_id: int, command: HesCommand, now: datetime) -> None:
    stamp = now.astimezone(IST).strftime("%d-%m-%Y %H:%M")
    supply = consumers_by_id(session, [consumer_id])[consumer_id]
    if command.command_id.startswith(CONNECT_PREFIX):
        message_type, params = "reconnection", {"ivrs": supply.ivrs_number, "time": stamp}
    else:
        balance = session.scalar(
            select(PrepaidAccount.balance_inr).where(PrepaidAccount.consumer_id == consumer_id)
        )
        message_type = "disconnected_for_balance"
        params = {"ivrs": supply.ivrs_number, "balance_inr": str(balance), "time": stamp}
    notify(session, consumer_id=consumer_id, message_type=message_type, params=params,
           dedupe_key=f"hes-command:{command.command_id}", now=now)  # fmt: skip
