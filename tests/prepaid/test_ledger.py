"""The prepaid ledger: idempotent by source id, append-only, balance cached and equal to the sum;
migration between postpaid and prepaid, effective-dated and audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.prepaid import LedgerError, balance, post, reverse, to_postpaid, to_prepaid
from service.prepaid.ledger import mismatched_balances
from tests.prepaid.conftest import BILLING

DAY = date(2026, 11, 20)


def entries(session: Any, cid: int) -> list[tuple[str, str, Decimal, Decimal]]:
    return [
        tuple(r)
        for r in session.execute(
            text("SELECT kind, source_id, amount_inr, balance_after_inr FROM prepaid_ledger"
                 " WHERE consumer_id = :c ORDER BY id"), {"c": cid}
        )
    ]  # fmt: skip


def test_every_entry_is_idempotent_by_its_source_id(session: Any, prepaid_one: int) -> None:
    first = post(
        session(), prepaid_one, "recharge", "PG-TXN-1", Decimal("200.00"), business_day=DAY, actor=BILLING
    )
    again = post(
        session(), prepaid_one, "recharge", "PG-TXN-1", Decimal("200.00"), business_day=DAY, actor=BILLING
    )
    charge = post(session(), prepaid_one, "daily_charge", f"daily:{prepaid_one}:{DAY}", Decimal("-41.37"),
                  business_day=DAY, actor=BILLING, kwh=Decimal("6.5"))  # fmt: skip
    charge_again = post(session(), prepaid_one, "daily_charge", f"daily:{prepaid_one}:{DAY}", Decimal("-41.37"),
                        business_day=DAY, actor=BILLING)  # fmt: skip
    session.commit()
    assert (first.created, again.created, charge.created, charge_again.created) == (True, False, True, False)
    assert again.entry_id == first.entry_id and again.balance_inr == Decimal("700.00")
    assert balance(session(), prepaid_one) == Decimal("658.63")  # 500 + 200 - 41.37
    assert entries(session, prepaid_one) == [
        ("opening_balance", "opening:mig-1", Decimal("500.00"), Decimal("500.00")),
        ("recharge", "PG-TXN-1", Decimal("200.00"), Decimal("700.00")),
        ("daily_charge", f"daily:{prepaid_one}:{DAY}", Decimal("-41.37"), Decimal("658.63")),
    ]
    assert mismatched_balances(session()) == []


def test_a_source_id_reused_with_another_amount_or_consumer_is_refused(
    session: Any, prepaid_one: int, consumer_ids: list[int]
) -> None:
    post(session(), prepaid_one, "recharge", "PG-TXN-2", Decimal("100.00"), business_day=DAY, actor=BILLING)
    session.commit()
    with pytest.raises(LedgerError) as amount:
        post(
            session(),
            prepaid_one,
            "recharge",
            "PG-TXN-2",
            Decimal("1000.00"),
            business_day=DAY,
            actor=BILLING,
        )
    to_prepaid(session(), consumer_ids[1], effective_from=DAY, opening_balance_inr=Decimal(0), source_id="mig-2",
               actor=BILLING)  # fmt: skip
    with pytest.raises(LedgerError) as other:
        post(
            session(),
            consumer_ids[1],
            "recharge",
            "PG-TXN-2",
            Decimal("100.00"),
            business_day=DAY,
            actor=BILLING,
        )
    assert amount.value.code == other.value.code == "source_conflict"
    session.rollback()
    assert balance(session(), prepaid_one) == Decimal("600.00")


@pytest.mark.parametrize(
    ("source_id", "amount", "code"),
    [
        ("", Decimal(1), "bad_source_id"),
        ("x" * 121, Decimal(1), "bad_source_id"),
        ("ok", Decimal("1.005"), "bad_amount"),
    ],
)
def test_a_malformed_posting_is_refused_by_name(
    session: Any, prepaid_one: int, source_id: str, amount: Decimal, code: str
) -> None:
    with pytest.raises(LedgerError) as refused:
        post(session(), prepaid_one, "recharge", source_id, amount, business_day=DAY, actor=BILLING)
    assert refused.value.code == code
    assert balance(session(), prepaid_one) == Decimal("500.00")


def test_a_postpaid_consumer_has_no_ledger(session: Any, consumer_ids: list[int]) -> None:
    with pytest.raises(LedgerError) as refused:
        post(
            session(),
            consumer_ids[3],
            "recharge",
            "PG-TXN-3",
            Decimal("10.00"),
            business_day=DAY,
            actor=BILLING,
        )
    assert refused.value.code == "not_prepaid"
    assert session.execute(text("SELECT count(*) FROM prepaid_ledger")).scalar_one() == 0


def test_the_ledger_refuses_updates_and_deletes(session: Any, prepaid_one: int) -> None:
    for sql in ("UPDATE prepaid_ledger SET amount_inr = 1", "DELETE FROM prepaid_ledger"):
        with pytest.raises(DBAPIError, match="prepaid_ledger is append-only"):
            session.execute(text(sql))
        session.rollback()
    assert entries(session, prepaid_one)[0][2] == Decimal("500.00")


def test_a_reversal_cancels_an_entry_once(session: Any, prepaid_one: int) -> None:
    paid = post(
        session(), prepaid_one, "recharge", "PG-TXN-4", Decimal("300.00"), business_day=DAY, actor=BILLING
    )
    first = reverse(session(), paid.entry_id, business_day=DAY, actor=BILLING, reason="cheque bounced")
    again = reverse(session(), paid.entry_id, business_day=DAY, actor=BILLING, reason="cheque bounced")
    session.commit()
    assert first.created and not again.created and balance(session(), prepaid_one) == Decimal("500.00")
    with pytest.raises(LedgerError) as refused:
        reverse(session(), first.entry_id, business_day=DAY, actor=BILLING, reason="again")
    assert refused.value.code == "not_reversible"


def test_migration_to_prepaid_and_back_is_effective_dated_and_audited(
    session: Any, consumer_ids: list[int]
) -> None:
    cid = consumer_ids[2]
    opened = to_prepaid(session(), cid, effective_from=date(2026, 11, 5), opening_balance_inr=Decimal("-120.50"),
                        source_id="NGB-MIG-9", actor=BILLING, reason="arrears carried")  # fmt: skip
    replay = to_prepaid(session(), cid, effective_from=date(2026, 11, 5), opening_balance_inr=Decimal("-120.50"),
                        source_id="NGB-MIG-9", actor=BILLING)  # fmt: skip
    session.commit()
    assert opened.created and not replay.created
    assert session.execute(text("SELECT is_prepaid FROM consumers WHERE id = :c"), {"c": cid}).scalar_one()
    post(session(), cid, "recharge", "PG-TXN-5", Decimal("500.00"), business_day=DAY, actor=BILLING)
    with pytest.raises(LedgerError) as early:
        to_postpaid(session(), cid, effective_from=date(2026, 11, 5), source_id="NGB-BACK-1", actor=BILLING)
    assert early.value.code == "out_of_order"
    session.rollback()
    post(session(), cid, "recharge", "PG-TXN-5", Decimal("500.00"), business_day=DAY, actor=BILLING)
    closed = to_postpaid(
        session(), cid, effective_from=date(2026, 12, 1), source_id="NGB-BACK-1", actor=BILLING
    )
    session.commit()
    assert closed.balance_inr == Decimal("379.50") and balance(session(), cid) == Decimal("0.00")
    modes = session.execute(
        text(
            "SELECT mode, effective_from, effective_to, balance_inr FROM prepaid_modes WHERE consumer_id = :c ORDER BY id"
        ),
        {"c": cid},
    ).all()
    assert [tuple(m) for m in modes] == [
        ("prepaid", date(2026, 11, 5), date(2026, 12, 1), Decimal("-120.50")),
        ("postpaid", date(2026, 12, 1), None, Decimal("379.50")),
    ]
    audit = session.execute(
        text(
            "SELECT action, after->>'balance_inr' FROM audit_log WHERE entity = 'consumer' AND entity_key = :k ORDER BY id"
        ),
        {"k": str(cid)},
    ).all()
    assert [tuple(a) for a in audit] == [("prepaid.to_prepaid", "-120.50"), ("prepaid.to_postpaid", "379.50")]
    with pytest.raises(LedgerError) as closed_account:
        post(session(), cid, "recharge", "PG-TXN-6", Decimal("10.00"), business_day=DAY, actor=BILLING)
    assert closed_account.value.code == "not_prepaid"
    with pytest.raises(LedgerError) as twice:
        to_postpaid(session(), cid, effective_from=date(2026, 12, 2), source_id="NGB-BACK-2", actor=BILLING)
    assert twice.value.code == "same_mode"


def test_the_statement_pages_the_ledger_newest_first_with_its_total_and_days_left(
    session: Any, prepaid_one: int
) -> None:
    from service.prepaid import statement

    for day in (1, 2, 3, 4):
        post(session(), prepaid_one, "daily_charge", f"daily:{prepaid_one}:2026-11-0{day}", Decimal("-50.00"),
             business_day=date(2026, 11, day), actor=BILLING)  # fmt: skip
    session.commit()
    first = statement(session(), prepaid_one, page=1, per_page=2)
    second = statement(session(), prepaid_one, page=3, per_page=2)
    # 500.00 opening - 4 x 50.00 = 300.00; 50.00 a day on average -> 6 days left.
    assert (first.balance_inr, first.average_daily_charge_inr, first.days_left) == (
        Decimal("300.00"), Decimal("50.00"), 6,
    )  # fmt: skip
    assert first.total == 5 and [line.business_day.day for line in first.lines] == [4, 3]
    assert [line.kind for line in second.lines] == ["opening_balance"]
