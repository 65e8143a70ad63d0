"""The prepaid ledger: post an entry idempotently by (kind, source id), reverse one, read the
balance (cached on the account, always the sum of the entries) and the entries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.audit.log import Actor


class LedgerError(ValueError):
    """A posting that cannot be taken; `code` is the API's machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Posted:
    entry_id: int
    created: bool  # False: the source id was posted before; nothing changed
    amount_inr: Decimal
    balance_inr: Decimal  # the account's balance now


_POST_SQL = """
WITH account AS (
    SELECT consumer_id, balance_inr FROM prepaid_accounts
    WHERE consumer_id = :consumer_id AND is_open FOR UPDATE
), entry AS (
    INSERT INTO prepaid_ledger (consumer_id, kind, source_id, amount_inr, balance_after_inr, business_day,
                                kwh, estimated, tariff_version, reverses_id, actor, detail)
    SELECT :consumer_id, :kind, :source_id, :amount, account.balance_inr + :amount, :day,
           :kwh, :estimated, :tariff_version, :reverses_id, :actor, CAST(:detail AS jsonb)
    FROM account
    ON CONFLICT (kind, source_id) DO NOTHING
    RETURNING id, balance_after_inr
), cached AS (
    UPDATE prepaid_accounts a SET balance_inr = entry.balance_after_inr, entries = a.entries + 1, updated_at = now()
    FROM entry WHERE a.consumer_id = :consumer_id
)
SELECT id, balance_after_inr FROM entry
"""


def post(
    session: Session,
    consumer_id: int,
    kind: str,
    source_id: str,
    amount_inr: Decimal,
    *,
    business_day: date,
    actor: Actor,
    kwh: Decimal | None = None,
    estimated: bool = False,
    tariff_version: str | None = None,
    reverses_id: int | None = None,
    detail: dict[str, Any] | None = None,
    allow_closed: bool = False,
) -> Posted:
    """Append one entry and move the cached balance with it. The same (kind, source id) again
    changes nothing and answers the first posting; with another consumer or amount it is refused
    (`source_conflict`). `allow_closed`: the account may be closed (the closing entry itself)."""
    if not source_id or len(source_id) > 120:
        raise LedgerError("bad_source_id", "source_id must be 1 to 120 characters")
    amount = Decimal(amount_inr).quantize(Decimal("0.01"))
    if amount != amount_inr:
        raise LedgerError("bad_amount", f"amount {amount_inr} has more than two decimals")
    sql = _POST_SQL.replace("AND is_open FOR UPDATE", "FOR UPDATE") if allow_closed else _POST_SQL
    row = session.execute(
        text(sql),
        {
            "consumer_id": consumer_id,
            "kind": kind,
            "source_id": source_id,
            "amount": amount,
            "day": business_day,
            "kwh": kwh,
            "estimated": estimated,
            "tariff_version": tariff_version,
            "reverses_id": reverses_id,
            "actor": f"{actor.kind}:{actor.name}",
            "detail": json.dumps(detail or {}, default=str),
        },
    ).one_or_none()
    if row is not None:
        return Posted(int(row.id), True, amount, Decimal(row.balance_after_inr))
    first = session.execute(
        text(
            "SELECT id, consumer_id, amount_inr FROM prepaid_ledger WHERE kind = :kind AND source_id = :source_id"
        ),
        {"kind": kind, "source_id": source_id},
    ).one_or_none()
    if first is None:
        raise LedgerError("not_prepaid", f"consumer {consumer_id} has no open prepaid account")
    if first.consumer_id != consumer_id or Decimal(first.amount_inr) != amount:
        raise LedgerError(
            "source_conflict",
            f"{kind} {source_id!r} was posted before with another consumer or amount (entry {first.id})",
        )
    return Posted(int(first.id), False, amount, balance(session, consumer_id))


def reverse(session: Session, entry_id: int, *, business_day: date, actor: Actor, reason: str) -> Posted:
    """Cancel one entry with an entry of the opposite amount; reversing it again changes nothing."""
    original = session.execute(
        text("SELECT consumer_id, kind, amount_inr FROM prepaid_ledger WHERE id = :id"), {"id": entry_id}
    ).one_or_none()
    if original is None:
        raise LedgerError("not_found", f"no ledger entry {entry_id}")
    if original.kind == "reversal":
        raise LedgerError("not_reversible", "a reversal is not reversed; post an adjustment")
    return post(
        session,
        int(original.consumer_id),
        "reversal",
        f"reversal:{entry_id}",
        -Decimal(original.amount_inr),
        business_day=business_day,
        actor=actor,
        reverses_id=entry_id,
        detail={"reason": reason, "reversed_kind": original.kind},
    )


def balance(session: Session, consumer_id: int) -> Decimal:
    value = session.execute(
        text("SELECT balance_inr FROM prepaid_accounts WHERE consumer_id = :id"), {"id": consumer_id}
    ).scalar_one_or_none()
    if value is None:
        raise LedgerError("not_prepaid", f"consumer {consumer_id} has no prepaid account")
    return Decimal(value)


def mismatched_balances(session: Session) -> list[int]:
    """Accounts whose cached balance or entry count differs from their ledger (should be none)."""
    return list(
        session.execute(
            text(
                """
                SELECT a.consumer_id FROM prepaid_accounts a
                LEFT JOIN (SELECT consumer_id, sum(amount_inr) AS total, count(*) AS n
                           FROM prepaid_ledger GROUP BY consumer_id) l ON l.consumer_id = a.consumer_id
                WHERE a.balance_inr <> coalesce(l.total, 0) OR a.entries <> coalesce(l.n, 0)
                ORDER BY 1
                """
            )
        ).scalars()
    )


@dataclass(frozen=True)
class EntryFacts:
    entry_id: int
    consumer_id: int
    kind: str
    source_id: str
    amount_inr: Decimal
    balance_after_inr: Decimal
    business_day: date
    detail: dict[str, Any]


def entry(session: Session, entry_id: int) -> EntryFacts | None:
    row = session.execute(
        text(
            "SELECT id, consumer_id, kind, source_id, amount_inr, balance_after_inr, business_day, detail"
            " FROM prepaid_ledger WHERE id = :id"
        ),
        {"id": entry_id},
    ).one_or_none()
    return None if row is None else EntryFacts(*row)
