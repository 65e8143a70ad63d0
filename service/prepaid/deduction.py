"""The daily deduction: charge every open prepaid account for a local day's validated kWh at its
tariff, and true up the month so far whenever the data under earlier charges has changed.

Set-based: one statement reads every account's kWh (the day, the month before it, the previous
month while its late data may still arrive) and what the ledger already charged; the tariff's one
bill function prices each account in Python; one statement appends every entry and moves every
cached balance. A day's charge is the month's bill-to-date after the day minus the bill-to-date
before it, so after each run the month's charges equal the bill-to-date on the data known now:
an estimated day is charged as estimated, and when its real data arrives the next run posts the
difference as a `true_up` (also any day a run missed). Running a day again posts nothing new.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from rules.tariffs import TariffBook
from service.aggregates import local_span
from service.consumption import consumer_days_cte

# The previous month is trued up on the first LATE_DAYS days of a month (its last days' data
# arrives then); after that its charges stand and a correction is an adjustment.
LATE_DAYS = 5
CHARGED_KINDS = ("daily_charge", "true_up")

_ACCOUNTS = "SELECT consumer_id FROM prepaid_accounts WHERE is_open AND prepaid_from <= :day"

_READ_SQL = f"""
WITH {consumer_days_cte(_ACCOUNTS)},
ledger AS (
  SELECT l.consumer_id,
    sum(l.amount_inr) FILTER (WHERE l.business_day >= :cur_month AND l.business_day < :day) AS cur_charged,
    sum(l.amount_inr) FILTER (WHERE l.business_day < :cur_month) AS prev_charged
  FROM prepaid_ledger l
  WHERE l.business_day >= :prev_month AND l.business_day < :day AND l.kind IN {CHARGED_KINDS}
  GROUP BY l.consumer_id
), used AS (
  SELECT d.consumer_id,
    sum(d.kwh) FILTER (WHERE d.day = :day) AS day_kwh,
    bool_or(d.estimated) FILTER (WHERE d.day = :day) AS day_estimated,
    sum(d.kwh) FILTER (WHERE d.day >= :cur_month AND d.day < :day) AS cur_kwh,
    sum(d.kwh) FILTER (WHERE d.day < :cur_month) AS prev_kwh
  FROM consumer_days d JOIN prepaid_accounts a ON a.consumer_id = d.consumer_id AND d.day >= a.prepaid_from
  GROUP BY d.consumer_id
)
SELECT a.consumer_id, c.tariff_category, c.sanctioned_load, a.prepaid_from,
  u.day_kwh, u.day_estimated, u.cur_kwh, u.prev_kwh, l.cur_charged, l.prev_charged
FROM prepaid_accounts a JOIN consumers c ON c.id = a.consumer_id
LEFT JOIN used u ON u.consumer_id = a.consumer_id
LEFT JOIN ledger l ON l.consumer_id = a.consumer_id
WHERE a.is_open AND a.prepaid_from <= :day
ORDER BY a.consumer_id
"""  # noqa: S608 - constant fragments

# Entries not posted before, chained on each account's balance under its row lock; the accounts'
# cached balances move in the same statement.
_WRITE_SQL = """
WITH new AS (
  SELECT n.* FROM unnest(CAST(:consumer_ids AS int[]), CAST(:ords AS int[]), CAST(:kinds AS text[]),
    CAST(:source_ids AS text[]), CAST(:amounts AS numeric[]), CAST(:days AS date[]),
    CAST(:kwhs AS numeric[]), CAST(:estimated AS boolean[]), CAST(:versions AS text[]),
    CAST(:details AS text[])) AS n(consumer_id, ord, kind, source_id, amount, day, kwh, estimated, version, detail)
  WHERE NOT EXISTS (SELECT 1 FROM prepaid_ledger l WHERE l.kind = n.kind AND l.source_id = n.source_id)
), locked AS (
  SELECT a.consumer_id, a.balance_inr FROM prepaid_accounts a
  WHERE a.consumer_id IN (SELECT consumer_id FROM new) ORDER BY a.consumer_id FOR UPDATE
), entries AS (
  INSERT INTO prepaid_ledger (consumer_id, kind, source_id, amount_inr, balance_after_inr, business_day,
                              kwh, estimated, tariff_version, actor, detail)
  SELECT new.consumer_id, new.kind, new.source_id, new.amount,
    locked.balance_inr + sum(new.amount) OVER (PARTITION BY new.consumer_id ORDER BY new.ord),
    new.day, new.kwh, new.estimated, new.version, :actor, CAST(new.detail AS jsonb)
  FROM new JOIN locked ON locked.consumer_id = new.consumer_id
  ORDER BY new.consumer_id, new.ord
  ON CONFLICT (kind, source_id) DO NOTHING
  RETURNING consumer_id, amount_inr, kind
), moved AS (
  UPDATE prepaid_accounts a SET balance_inr = a.balance_inr + t.total, entries = a.entries + t.n, updated_at = now()
  FROM (SELECT consumer_id, sum(amount_inr) AS total, count(*) AS n FROM entries GROUP BY consumer_id) t
  WHERE a.consumer_id = t.consumer_id
  RETURNING a.consumer_id
)
SELECT count(*) FILTER (WHERE kind = 'daily_charge'), count(*) FILTER (WHERE kind = 'true_up') FROM entries
"""


@dataclass(frozen=True)
class DeductionResult:
    day: date
    accounts: int  # open prepaid accounts on the day
    charged: int  # daily charges written now
    trued_up: int  # true-ups written now
    unpriced: int  # accounts whose category the tariff file does not price
    estimated: int  # of the accounts, those whose day was estimated or had no data


@dataclass
class _Entries:
    columns: dict[str, list[Any]]

    @classmethod
    def empty(cls) -> _Entries:
        names = (
            "consumer_ids",
            "ords",
            "kinds",
            "source_ids",
            "amounts",
            "days",
            "kwhs",
            "estimated",
            "versions",
            "details",
        )
        return cls({n: [] for n in names})

    def add(self, consumer_id: int, ord_: int, kind: str, source_id: str, amount: Decimal, day: date,
            kwh: Decimal | None, estimated: bool, version: str, detail: dict[str, Any]) -> None:  # fmt: skip
        values = (
            consumer_id,
            ord_,
            kind,
            source_id,
            amount,
            day,
            kwh,
            estimated,
            version,
            json.dumps(detail),
        )
        for name, value in zip(self.columns, values, strict=True):
            self.columns[name].append(value)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _dec(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(str(value))


def deduct(
    session: Session, day: date, book: TariffBook, *, actor: str = "system:prepaid.deduction"
) -> DeductionResult:
    """Charge `day` (a local day) to every open prepaid account and true up what changed before it.
    The caller owns the transaction; runs of the deduction are serialised by an advisory lock."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('prepaid.deduction'))"))
    cur_month = _month_start(day)
    prev_end = cur_month - timedelta(days=1)
    late = day.day <= LATE_DAYS
    prev_month = _month_start(prev_end) if late else cur_month
    span_start, span_end = local_span(prev_month, day)
    rows = session.execute(
        text(_READ_SQL),
        {"day": day, "cur_month": cur_month, "prev_month": prev_month,
         "cd_first": prev_month, "cd_last": day, "cd_span_start": span_start, "cd_span_end": span_end},
    ).all()  # fmt: skip
    out = _Entries.empty()
    unpriced = estimated_days = 0
    for r in rows:
        version = book.in_force(r.tariff_category, day)
        if version is None:
            unpriced += 1
            continue
        load_kw = _dec(r.sanctioned_load)
        start = max(cur_month, r.prepaid_from)
        n = (day - start).days + 1
        common = {"days_in_month": _days_in_month(day), "sanctioned_load_kw": load_kw, "prepaid": True}
        before_kwh, day_kwh = _dec(r.cur_kwh), _dec(r.day_kwh)
        estimated = r.day_kwh is None or bool(r.day_estimated)
        estimated_days += estimated
        before = version.bill(before_kwh, days=n - 1, **common).total_inr  # type: ignore[arg-type]
        after = version.bill(before_kwh + day_kwh, days=n, **common).total_inr  # type: ignore[arg-type]
        if late and r.prepaid_from <= prev_end:
            _true_up(out, r, book, 0, _month_start(prev_end), prev_end, prev_end, _dec(r.prev_kwh),
                     _dec(r.prev_charged), load_kw, day)  # fmt: skip
        if n > 1:
            trued = -before - _dec(r.cur_charged)
            if trued:
                detail = {
                    "expected_inr": str(-before),
                    "charged_inr": str(_dec(r.cur_charged)),
                    "kwh_before": str(before_kwh),
                }
                out.add(r.consumer_id, 1, "true_up", f"trueup:{r.consumer_id}:{day - timedelta(days=1)}:{day}",
                        trued, day - timedelta(days=1), None, False, version.version, detail)  # fmt: skip
        out.add(r.consumer_id, 2, "daily_charge", f"daily:{r.consumer_id}:{day}", -(after - before), day,
                day_kwh, estimated, version.version, {"bill_to_date_inr": str(after), "day_of_bill": n})  # fmt: skip
    charged, trued_up = _write(session, out, actor)
    return DeductionResult(day, len(rows), charged, trued_up, unpriced, estimated_days)


def _true_up(out: _Entries, r: Any, book: TariffBook, ord_: int, month: date, month_end: date, on: date,
             kwh: Decimal, charged: Decimal, load_kw: Decimal, run_day: date) -> None:  # fmt: skip
    """The previous month closed on the data known now: its bill minus what was charged."""
    version = book.in_force(r.tariff_category, month_end)
    if version is None:
        return
    start = max(month, r.prepaid_from)
    bill = version.bill(kwh, days=(month_end - start).days + 1, days_in_month=_days_in_month(month_end),
                        sanctioned_load_kw=load_kw, prepaid=True).total_inr  # fmt: skip
    trued = -bill - charged
    if trued:
        detail = {"expected_inr": str(-bill), "charged_inr": str(charged), "month_kwh": str(kwh)}
        out.add(r.consumer_id, ord_, "true_up", f"trueup:{r.consumer_id}:{on}:{run_day}", trued, on, None, False,
                version.version, detail)  # fmt: skip


def _write(session: Session, out: _Entries, actor: str) -> tuple[int, int]:
    """Append the entries not posted before: (daily charges, true-ups) written."""
    if not out.columns["consumer_ids"]:
        return 0, 0
    row = session.execute(text(_WRITE_SQL), {**out.columns, "actor": actor}).one()
    return int(row[0]), int(row[1])
