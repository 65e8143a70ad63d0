"""The daily deduction over real ingest, VEE and aggregates: a day charged as estimated while its
data is short, trued up the day its real data is in; a run repeated posts nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import text

from integrations.canonical import CanonicalBatch
from rules.tariffs import load_file
from service.prepaid import balance, to_prepaid
from service.prepaid.deduction import deduct
from service.prepaid.ledger import mismatched_balances
from tests.consumption import conftest as consumption
from tests.consumption.conftest import interval_batch
from tests.prepaid.conftest import BILLING

# The consumption tests' consumers, meters and ingest-through-VEE fixtures.
_rules_from_repository = consumption._rules_from_repository
discom, people, ingest_and_validate = consumption.discom, consumption.people, consumption.ingest_and_validate

D = Decimal
DAY_18 = np.datetime64("2026-11-17T18:30:00", "s")  # 18 Nov 00:00 IST


def day_batch(first: int, count: int) -> CanonicalBatch:
    """RX's 15-minute kWh from interval `first` of 18 Nov on, alternating 0.10 / 0.15 (12 kWh a day)."""
    ends = DAY_18 + (np.arange(first, first + count) + 1) * np.timedelta64(15, "m")
    values = np.where(np.arange(first, first + count) % 2 == 0, 0.10, 0.15)
    return interval_batch("RX", ends, values)


def ledger(session: Any, cid: int) -> list[tuple[str, date, Decimal, bool]]:
    rows = session.execute(
        text("SELECT kind, business_day, amount_inr, estimated FROM prepaid_ledger WHERE consumer_id = :c"
             " AND kind <> 'opening_balance' ORDER BY id"), {"c": cid}
    )  # fmt: skip
    return [tuple(r) for r in rows]


def test_an_estimated_day_is_charged_then_trued_up_when_its_real_data_arrives(
    session: Any, people: Any, ingest_and_validate: Callable[[CanonicalBatch], Any]
) -> None:
    cid = people.ids["RC2"]  # LV1, 5 kW, meter RX
    to_prepaid(session(), cid, effective_from=date(2026, 11, 18), opening_balance_inr=D("1000.00"),
               source_id="mig-rc2", actor=BILLING)  # fmt: skip
    session.commit()
    book = load_file().book
    assert book is not None
    ingest_and_validate(day_batch(0, 96 + 64))  # all of 18 Nov, 19 Nov up to 16:00 IST
    first = deduct(session(), date(2026, 11, 18), book)
    again = deduct(session(), date(2026, 11, 18), book)
    second = deduct(session(), date(2026, 11, 19), book)
    session.commit()
    assert (first.charged, again.charged, second.charged, second.trued_up) == (1, 0, 1, 0)
    assert second.estimated == 1
    ingest_and_validate(day_batch(96 + 64, 32))  # the rest of 19 Nov arrives late
    third = deduct(session(), date(2026, 11, 20), book)  # 20 Nov has no data yet
    session.commit()
    assert (third.charged, third.trued_up, third.estimated) == (1, 1, 1)
    # LV1, 5 kW, 30-day November, prepaid, from 18 Nov (hand-computed, docs/prepaid.md):
    # 18th: bill(12 kWh, 1 day) = 5.00 + 53.40 - 1.60 + 4.66 + 1.42 = 62.88
    # 19th as known (8 kWh): bill(20, 2) = 10.00 + 89.00 - 2.67 + 7.77 + 2.41 = 106.51 -> 43.63
    # 19th actual (12 kWh): bill(24, 2) = 10.00 + 106.80 - 3.20 + 9.32 + 2.84 = 125.76 -> true-up 19.25
    # 20th, no data: bill(24, 3) = 15.00 + 106.80 - 3.20 + 9.32 + 2.97 = 130.89 -> 5.13
    assert ledger(session, cid) == [
        ("daily_charge", date(2026, 11, 18), D("-62.88"), False),
        ("daily_charge", date(2026, 11, 19), D("-43.63"), True),
        ("true_up", date(2026, 11, 19), D("-19.25"), False),
        ("daily_charge", date(2026, 11, 20), D("-5.13"), True),
    ]
    assert balance(session(), cid) == D("869.11") and mismatched_balances(session()) == []
    repeat = deduct(session(), date(2026, 11, 20), book)
    assert (repeat.charged, repeat.trued_up) == (0, 0)


def test_the_deduction_job_runs_on_a_real_worker_and_skips_unpriced_categories(
    session: Any,
    people: Any,
    ingest_and_validate: Callable[[CanonicalBatch], Any],
    run_jobs: Callable[..., int],
) -> None:
    from service.prepaid.jobs import daily_deduction
    from service.queues import get_queue

    rc2, rc1 = people.ids["RC2"], people.ids["RC1"]
    for cid, source in ((rc2, "mig-a"), (rc1, "mig-b")):
        to_prepaid(session(), cid, effective_from=date(2026, 11, 18), opening_balance_inr=D("100.00"),
                   source_id=source, actor=BILLING)  # fmt: skip
    # LV5 (agriculture) is a category the tariff file does not price
    session.execute(text("UPDATE consumers SET tariff_category = 'LV5' WHERE id = :c"), {"c": rc1})
    session.commit()
    ingest_and_validate(day_batch(0, 96))
    job = get_queue("bulk").enqueue(daily_deduction, "2026-11-18")
    assert run_jobs("bulk") == 1
    answer = job.return_value()
    alerts = answer.pop("alerts")
    assert answer == {"day": "2026-11-18", "accounts": 2, "charged": 1, "trued_up": 0,
                      "unpriced": 1, "estimated": 0}  # fmt: skip
    # The alerts ran after the charges: 37.12 left at 62.88 a day is under 3 days.
    assert (alerts["day"], alerts["accounts"], alerts["low_notices"], alerts["disconnections"]) == (
        "2026-11-18", 2, 1, 0,
    )  # fmt: skip
    assert balance(session(), rc2) == D("37.12") and balance(session(), rc1) == D("100.00")  # 100 - 62.88
