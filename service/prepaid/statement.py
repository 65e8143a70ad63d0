"""A consumer's prepaid statement for the consumer app and staff pages: balance, days left at the
recent average daily charge, and one page of the ledger with the total count (newest first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.prepaid.ledger import LedgerError, balance

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    kind: str
    business_day: date
    amount_inr: Decimal
    balance_after_inr: Decimal
    estimated: bool
    created_at: datetime  # aware UTC; show in IST


@dataclass(frozen=True)
class Statement:
    consumer_id: int
    balance_inr: Decimal
    average_daily_charge_inr: Decimal  # over the last `average_days` charged days
    days_left: int | None  # None: nothing charged yet
    total: int
    page: int
    per_page: int
    lines: list[StatementLine]


def average_and_days_left(balance: Decimal, charged: Decimal, days: int) -> tuple[Decimal, int | None]:
    """The average daily charge (to the paisa) and the whole days the balance lasts at it (0 at
    or below zero; None when nothing was charged), as the statement and the alerts count them."""
    average = (charged / days).quantize(Decimal("0.01")) if days and charged else Decimal(0)
    return average, None if average <= 0 else max(0, int(balance / average))


def statement(session: Session, consumer_id: int, *, page: int = 1, per_page: int = 20,
              average_days: int = 7) -> Statement:  # fmt: skip
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise LedgerError("bad_page", f"page from 1, per_page from 1 to {MAX_PER_PAGE}")
    now_balance = balance(session, consumer_id)
    total = int(
        session.scalar(text("SELECT count(*) FROM prepaid_ledger WHERE consumer_id = :c"), {"c": consumer_id})
        or 0
    )
    rows = session.execute(
        text("SELECT id, kind, business_day, amount_inr, balance_after_inr, estimated, created_at FROM prepaid_ledger"
             " WHERE consumer_id = :c ORDER BY id DESC LIMIT :n OFFSET :o"),
        {"c": consumer_id, "n": per_page, "o": (page - 1) * per_page},
    ).all()  # fmt: skip
    charged = session.execute(
        text("SELECT -sum(amount_inr), count(DISTINCT business_day) FROM (SELECT amount_inr, business_day"
             " FROM prepaid_ledger WHERE consumer_id = :c AND kind IN ('daily_charge', 'true_up')"
             " AND business_day > (SELECT max(business_day) FROM prepaid_ledger WHERE consumer_id = :c"
             " AND kind = 'daily_charge') - :d) t"),
        {"c": consumer_id, "d": average_days},
    ).one()  # fmt: skip
    average, days_left = average_and_days_left(now_balance, Decimal(charged[0] or 0), int(charged[1] or 0))
    lines = [
        StatementLine(int(r[0]), r[1], r[2], Decimal(r[3]), Decimal(r[4]), bool(r[5]), r[6]) for r in rows
    ]
    return Statement(consumer_id, now_balance, average, days_left, total, page, per_page, lines)
