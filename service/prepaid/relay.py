"""The prepaid relay: connect and disconnect commands to the HES through service.commands, and
what their results do to the account (the disconnected-for-balance flag, supply status, SMS)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands import HesCommand, issuing
from service.commands.issuing import CommandOrder
from service.masterdata.supply import consumers_by_id, set_supply_status
from service.notifications.sending import notify
from service.outbox.handlers import PermanentError
from service.prepaid.models import PrepaidAccount

# Command ids of this package: "PPC<consumer>-<recharge entry>" and "PPD<consumer>-<crossing>".
CONNECT_PREFIX, DISCONNECT_PREFIX = "PPC", "PPD"
IST = ZoneInfo("Asia/Kolkata")


def command(session: Session, consumer_id: int, action: str, command_id: str, *, now: datetime) -> int:
    """Create and schedule one connect/disconnect command now (an existing command id is kept)."""
    supply = consumers_by_id(session, [consumer_id]).get(consumer_id)
    if supply is None or supply.meter_id is None or not supply.meter_serial or not supply.hes_code:
        raise PermanentError(f"consumer {consumer_id} has no meter behind a HES: no {action} command")
    order = CommandOrder(
        command_id, action, supply.meter_id, supply.meter_serial, supply.hes_code,
        supply.division_id or supply.org_unit_id, consumer_id,
    )  # fmt: skip
    ids = issuing.create(session, [order], batch_key=f"prepaid:{action}")
    issuing.schedule(session, list(ids.values()))
    return ids[command_id]


def on_commands_finished(session: Session, commands: list[HesCommand], now: datetime) -> None:
    """What a prepaid connect or disconnect that the HES carried out does (service.commands'
    listener, registered by the package with the app's clock)."""
    done = [
        c for c in commands
        if c.state == "succeeded" and c.consumer_id is not None
        and c.command_id.startswith((CONNECT_PREFIX, DISCONNECT_PREFIX))
    ]  # fmt: skip
    if not done:
        return
    accounts = {
        a.consumer_id: a
        for a in session.scalars(
            select(PrepaidAccount)
            .where(PrepaidAccount.consumer_id.in_([c.consumer_id for c in done]))
            .order_by(PrepaidAccount.consumer_id)
            .with_for_update()
        )
    }
    connected, disconnected = [], []
    for c in done:
        account = accounts.get(int(c.consumer_id))  # type: ignore[arg-type]
        if account is None:
            continue
        if c.command_id.startswith(CONNECT_PREFIX):
            account.disconnected_for_balance, account.disconnect_due_since = False, None
            connected.append(account.consumer_id)
        else:
            account.disconnected_for_balance = True
            disconnected.append(account.consumer_id)
        _tell(session, account.consumer_id, c, now)
    set_supply_status(session, connected, "connected")
    set_supply_status(session, disconnected, "disconnected")


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
