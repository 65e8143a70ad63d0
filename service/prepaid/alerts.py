"""Low-balance alerts and automatic disconnection, run after the daily deduction.

Set-based read: one statement gives every open account's balance, its average daily charge over
the last `average_days` days and its alert/disconnection state; only the accounts whose state
changes are written (one statement) and told (one notice each).

- **Low balance**: a notice when the days left at the average daily charge fall below a level of
  `low_balance_days` (the lowest level crossed is remembered in `low_alert_days`, so each level is
  told once per fall; when the balance rises above it again — a recharge — a later fall is told
  again). **Zero**: a notice once when the balance reaches zero or less (again after it has been
  above zero).
- **Emergency credit**: when the balance first falls below minus the negative limit and
  `emergency_credit_inr` is set, the consumer is told the credit and the floor moves down by it
  (no ledger entry: the balance stays what is owed, the next recharge repays it); once per fall.
- **Disconnection** when the balance is below the floor (minus the negative limit, minus the
  credit if granted): a `disconnect` command through service.commands, held until the safety
  window (working hours, closed days, the discom's holidays, the division's daily cap) when it
  is not open now. A consumer flagged essential service is never disconnected. A recharge (or
  any credit) that lifts the balance to the floor again cancels a held disconnection.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from rules.disconnection_safety import PrepaidRules, SafetyRules
from service.commands import issuing
from service.disconnections.safety import disconnection_start
from service.masterdata.supply import consumers_by_id
from service.notifications.sending import notify
from service.prepaid import relay
from service.prepaid.models import AutoDisconnection, PrepaidAccount
from service.prepaid.statement import average_and_days_left

IST = ZoneInfo("Asia/Kolkata")

_READ_SQL = """
SELECT a.consumer_id, a.balance_inr, a.entries, a.low_alert_days, a.zero_alert_at IS NOT NULL AS zero_told,
  a.emergency_credit_at IS NOT NULL AS credit_given, a.disconnected_for_balance, a.disconnection_id,
  d.floor_inr AS pending_floor, c.essential_service,
  coalesce(u.charged, 0) AS charged, coalesce(u.days, 0) AS days
FROM prepaid_accounts a JOIN consumers c ON c.id = a.consumer_id
LEFT JOIN prepaid_disconnections d ON d.id = a.disconnection_id
LEFT JOIN (
  SELECT l.consumer_id, -sum(l.amount_inr) AS charged, count(DISTINCT l.business_day) AS days
  FROM prepaid_ledger l
  WHERE l.kind IN ('daily_charge', 'true_up') AND l.business_day > :day - :average_days
    AND l.business_day <= :day
  GROUP BY l.consumer_id
) u ON u.consumer_id = a.consumer_id
WHERE a.is_open
ORDER BY a.consumer_id
"""

_WRITE_SQL = """
UPDATE prepaid_accounts a SET
  low_alert_days = n.low, zero_alert_at = CASE WHEN n.zero THEN coalesce(a.zero_alert_at, :now) END,
  emergency_credit_at = CASE WHEN n.credit THEN coalesce(a.emergency_credit_at, :now) END,
  updated_at = now()
FROM unnest(CAST(:ids AS int[]), CAST(:lows AS smallint[]), CAST(:zeros AS boolean[]),
            CAST(:credits AS boolean[])) AS n(consumer_id, low, zero, credit)
WHERE a.consumer_id = n.consumer_id
"""


@dataclass
class AlertResult:
    day: date
    accounts: int = 0
    low_notices: int = 0
    zero_notices: int = 0
    emergency_credits: int = 0
    disconnections: int = 0  # commanded now
    held: int = 0  # of those, held until the safety window opens
    cancelled: int = 0  # held disconnections cancelled because the balance recovered
    essential_kept: int = 0  # below the floor but flagged essential service: not disconnected
    no_meter: int = 0  # below the floor but no meter behind a HES
    held_until: dict[int, str] = field(default_factory=dict)  # division id -> ISO time

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "day": str(self.day)}


def floor_of(rules: PrepaidRules, credit_given: bool) -> Decimal:
    """The balance below which the relay opens: minus the negative limit, minus the emergency
    credit once granted."""
    return -rules.negative_limit_inr - (rules.emergency_credit_inr if credit_given else Decimal(0))


def evaluate(session: Session, day: date, rules: SafetyRules, now: datetime) -> AlertResult:
    """Alerts and disconnections for every open account after `day` was charged. The caller owns
    the transaction; serialised with the deduction by its advisory lock."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('prepaid.deduction'))"))
    prepaid = rules.prepaid
    rows = session.execute(text(_READ_SQL), {"day": day, "average_days": prepaid.average_days}).all()
    result = AlertResult(day, accounts=len(rows))
    changed: dict[int, tuple[int | None, bool, bool]] = {}
    notices: list[tuple[int, str, dict[str, str], str]] = []  # consumer, type, params, dedupe key
    due: list[Any] = []
    cancel: list[Any] = []
    for r in rows:
        balance = Decimal(r.balance_inr)
        _, days_left = average_and_days_left(balance, Decimal(r.charged), int(r.days))
        crossed = [level for level in prepaid.low_balance_days if days_left is not None and days_left < level]
        lowest = min(crossed) if crossed else None
        zero_told = bool(r.zero_told)
        if balance <= 0 and prepaid.zero_alert and not zero_told:
            zero_told = True
            notices.append((r.consumer_id, "zero_prepaid_balance", {"balance_inr": str(balance)},
                            f"prepaid-zero:{r.consumer_id}:{r.entries}"))  # fmt: skip
            result.zero_notices += 1
        elif lowest is not None and (r.low_alert_days is None or lowest < r.low_alert_days):
            notices.append((r.consumer_id, "low_prepaid_balance",
                            {"balance_inr": str(balance), "days": str(days_left)},
                            f"prepaid-low:{r.consumer_id}:{lowest}:{r.entries}"))  # fmt: skip
            result.low_notices += 1
        if balance > 0:
            zero_told = False
        credit_given = bool(r.credit_given)
        if balance >= -prepaid.negative_limit_inr:
            credit_given = False  # back above the limit: a later fall may be granted credit again
        if r.disconnection_id is not None and balance >= Decimal(r.pending_floor):
            cancel.append(r)
        elif (
            balance < -prepaid.negative_limit_inr
            and not r.disconnected_for_balance
            and r.disconnection_id is None
        ):
            if r.essential_service:
                result.essential_kept += 1
            elif balance < floor_of(prepaid, True):
                credit_given = prepaid.emergency_credit_inr > 0  # spent, or too little to cover
                due.append(r)
            elif not credit_given:
                credit_given = True
                notices.append((r.consumer_id, "prepaid_emergency_credit",
                                {"credit_inr": str(prepaid.emergency_credit_inr), "balance_inr": str(balance)},
                                f"prepaid-credit:{r.consumer_id}:{r.entries}"))  # fmt: skip
                result.emergency_credits += 1
        state = (lowest, zero_told, credit_given)
        if state != (r.low_alert_days, bool(r.zero_told), bool(r.credit_given)):
            changed[r.consumer_id] = state
    if changed:
        ids = sorted(changed)
        session.execute(
            text(_WRITE_SQL),
            {"ids": ids, "lows": [changed[i][0] for i in ids], "zeros": [changed[i][1] for i in ids],
             "credits": [changed[i][2] for i in ids], "now": now},
        )  # fmt: skip
    result.cancelled = cancel_disconnections(session, [r.consumer_id for r in cancel], now)
    _disconnect(session, due, rules, now, result)
    _tell(session, notices, now)
    return result


def _tell(session: Session, notices: list[tuple[int, str, dict[str, str], str]], now: datetime) -> None:
    supplies = consumers_by_id(session, [n[0] for n in notices])
    for consumer_id, message_type, params, key in notices:
        notify(session, consumer_id=consumer_id, message_type=message_type,
               params={"ivrs": supplies[consumer_id].ivrs_number, **params}, dedupe_key=key[:120], now=now)  # fmt: skip


def _disconnect(
    session: Session, due: list[Any], rules: SafetyRules, now: datetime, result: AlertResult
) -> None:
    """One disconnection per due account, per division held until its safety window."""
    if not due:
        return
    supplies = consumers_by_id(session, [r.consumer_id for r in due])
    per_division: dict[int, list[Any]] = defaultdict(list)
    for r in due:
        supply = supplies[r.consumer_id]
        if supply.meter_id is None or not supply.meter_serial or not supply.hes_code:
            result.no_meter += 1
            continue
        per_division[supply.division_id or supply.org_unit_id].append(r)
    ids = iter(
        session.execute(
            text("SELECT nextval(pg_get_serial_sequence('prepaid_disconnections', 'id')) FROM generate_series(1, :n)"),
            {"n": sum(len(v) for v in per_division.values())},
        ).scalars()
    )  # fmt: skip
    for division_id, rows in sorted(per_division.items()):
        not_before = disconnection_start(session, rules, now, division_id, len(rows))
        made = []
        for r in rows:
            row = AutoDisconnection(
                id=next(ids), consumer_id=r.consumer_id, division_id=division_id, state="held" if not_before else "commanded",
                balance_inr=Decimal(r.balance_inr), floor_inr=floor_of(rules.prepaid, True),
                due_at=now, not_before=not_before,
            )  # fmt: skip
            row.command_id = f"{relay.DISCONNECT_PREFIX}{r.consumer_id}-{row.id}"
            made.append(row)
        session.add_all(made)
        session.flush()
        pks = relay.commands(session, [(m.consumer_id, m.command_id) for m in made], "disconnect", supplies,
                             division_id, not_before=not_before)  # fmt: skip
        for m in made:
            m.command_pk = pks[m.command_id]
        session.execute(
            text("UPDATE prepaid_accounts a SET disconnection_id = n.id, disconnect_due_since = :now"
                 " FROM unnest(CAST(:cids AS int[]), CAST(:ids AS bigint[])) AS n(consumer_id, id)"
                 " WHERE a.consumer_id = n.consumer_id"),
            {"cids": [m.consumer_id for m in made], "ids": [m.id for m in made], "now": now},
        )  # fmt: skip
        result.disconnections += len(made)
        if not_before is not None:
            result.held += len(made)
            result.held_until[division_id] = not_before.isoformat()


def cancel_disconnections(
    session: Session, consumer_ids: list[int], now: datetime, reason: str = "recharged"
) -> int:
    """Cancel the held disconnections of these accounts (their balance is back at the floor); a
    command already sent cannot be cancelled: its result reconnects if the balance allows."""
    if not consumer_ids:
        return 0
    rows = list(
        session.scalars(
            select(AutoDisconnection)
            .join(PrepaidAccount, PrepaidAccount.disconnection_id == AutoDisconnection.id)
            .where(PrepaidAccount.consumer_id.in_(sorted(consumer_ids)))
            .order_by(AutoDisconnection.id)
            .with_for_update()
        )
    )
    done = set(issuing.cancel(session, [r.command_pk for r in rows if r.command_pk is not None], reason, now))
    cancelled = [r for r in rows if r.command_pk in done]
    for r in cancelled:
        r.state, r.finished_at, r.reason = "cancelled", now, reason
    if cancelled:
        session.execute(
            text("UPDATE prepaid_accounts SET disconnection_id = NULL, disconnect_due_since = NULL"
                 " WHERE consumer_id = ANY(:ids)"),
            {"ids": [r.consumer_id for r in cancelled]},
        )  # fmt: skip
    return len(cancelled)
