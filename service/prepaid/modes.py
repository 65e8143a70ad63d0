"""Moving a consumer between postpaid and prepaid: effective-dated, audited, with the opening
balance (billing's deposit minus arrears) or the closing balance (handed back to billing) as a
ledger entry. The same source id again changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.audit.log import Actor, record
from service.masterdata.supply import set_prepaid
from service.prepaid import ledger
from service.prepaid.ledger import LedgerError
from service.prepaid.models import PaymentMode, PrepaidAccount


@dataclass(frozen=True)
class ModeChange:
    consumer_id: int
    mode: str
    effective_from: date
    balance_inr: Decimal  # the opening balance (to prepaid) or the closing balance (to postpaid)
    created: bool


def _current(session: Session, consumer_id: int) -> PaymentMode | None:
    return session.scalars(
        select(PaymentMode)
        .where(PaymentMode.consumer_id == consumer_id, PaymentMode.effective_to.is_(None))
        .with_for_update()
    ).first()


def _replayed(session: Session, source_id: str, mode: str) -> ModeChange | None:
    done = session.scalars(select(PaymentMode).where(PaymentMode.source_id == source_id)).first()
    if done is None:
        return None
    if done.mode != mode:
        raise LedgerError("source_conflict", f"{source_id!r} already moved the consumer to {done.mode}")
    return ModeChange(done.consumer_id, done.mode, done.effective_from, Decimal(done.balance_inr), False)


def _open_mode(
    session: Session, consumer_id: int, mode: str, effective_from: date, balance: Decimal,
    source_id: str, actor: Actor, reason: str,
) -> None:  # fmt: skip
    current = _current(session, consumer_id)
    if current is not None:
        if current.mode == mode:
            raise LedgerError("same_mode", f"consumer {consumer_id} is already {mode}")
        if effective_from <= current.effective_from:
            raise LedgerError(
                "out_of_order",
                f"effective_from {effective_from} is not after the current mode's {current.effective_from}",
            )
        current.effective_to = effective_from
    elif mode == "postpaid":
        raise LedgerError("same_mode", f"consumer {consumer_id} is already postpaid")
    session.add(
        PaymentMode(
            consumer_id=consumer_id, mode=mode, effective_from=effective_from, source_id=source_id,
            balance_inr=balance, reason=reason, actor=f"{actor.kind}:{actor.name}",
        )
    )  # fmt: skip
    if not set_prepaid(session, consumer_id, mode == "prepaid"):
        raise LedgerError("not_found", f"no consumer {consumer_id}")
    record(
        session, actor, f"prepaid.to_{mode}", "consumer", str(consumer_id),
        {"mode": current.mode if current else "postpaid"},
        {"mode": mode, "effective_from": effective_from, "balance_inr": balance, "source_id": source_id,
         "reason": reason},
    )  # fmt: skip


def to_prepaid(
    session: Session,
    consumer_id: int,
    *,
    effective_from: date,
    opening_balance_inr: Decimal,
    source_id: str,
    actor: Actor,
    reason: str = "",
) -> ModeChange:
    """Open (or reopen) the consumer's prepaid account from `effective_from` with an opening balance."""
    replay = _replayed(session, source_id, "prepaid")
    if replay is not None:
        return replay
    _open_mode(session, consumer_id, "prepaid", effective_from, opening_balance_inr, source_id, actor, reason)
    account = session.get(PrepaidAccount, consumer_id, with_for_update=True)
    if account is None:
        session.add(PrepaidAccount(consumer_id=consumer_id, prepaid_from=effective_from))
    else:
        account.is_open, account.prepaid_from = True, effective_from
        account.low_alert_at = account.zero_alert_at = account.disconnect_due_since = None
    session.flush()
    ledger.post(
        session, consumer_id, "opening_balance", f"opening:{source_id}", opening_balance_inr,
        business_day=effective_from, actor=actor, detail={"reason": reason},
    )  # fmt: skip
    return ModeChange(consumer_id, "prepaid", effective_from, opening_balance_inr, True)


def to_postpaid(
    session: Session,
    consumer_id: int,
    *,
    effective_from: date,
    source_id: str,
    actor: Actor,
    reason: str = "",
) -> ModeChange:
    """Close the prepaid account from `effective_from`; its balance goes to billing as a closing entry."""
    replay = _replayed(session, source_id, "postpaid")
    if replay is not None:
        return replay
    closing = ledger.balance(session, consumer_id)
    _open_mode(session, consumer_id, "postpaid", effective_from, closing, source_id, actor, reason)
    ledger.post(
        session, consumer_id, "closing_balance", f"closing:{source_id}", -closing,
        business_day=effective_from, actor=actor, detail={"reason": reason, "to_billing_inr": str(closing)},
    )  # fmt: skip
    session.execute(
        update(PrepaidAccount).where(PrepaidAccount.consumer_id == consumer_id).values(is_open=False)
    )
    return ModeChange(consumer_id, "postpaid", effective_from, closing, True)
