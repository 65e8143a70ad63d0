"""Low-balance and zero alerts once per crossing; the friendly-hours rule holding an automatic
disconnection until the safety window (the injected clock, never the wall clock's hour); emergency
credit; the disconnection through the HES simulator; a recharge cancelling a held disconnection."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from rules.disconnection_safety import SafetyRules, load
from service.audit.log import Actor
from service.commands.models import HesCommand
from service.notifications.models import Notification
from service.prepaid import post, to_prepaid
from service.prepaid.alerts import evaluate
from service.prepaid.models import AutoDisconnection
from tests.disconnections.conftest import make_world
from tests.prepaid.test_topup import payment, signed

D = Decimal
STAFF = Actor("user", "accounts")
TUESDAY_22_IST = datetime(2026, 12, 1, 16, 30, tzinfo=UTC)
TUESDAY_11_IST = datetime(2026, 12, 1, 5, 30, tzinfo=UTC)
WEDNESDAY_10_IST = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)


def rules(**prepaid: Any) -> SafetyRules:
    base = load()
    return replace(base, prepaid=replace(base.prepaid, **prepaid))


@pytest.fixture
def world(session: Any) -> Any:
    return make_world(session, per_division=3)


def open_account(
    session: Any, world: Any, n: int, opening: str, *, charges: int = 0, per_day: str = "20.00"
) -> int:
    """An account from 20 Nov with `charges` daily charges of `per_day` from 21 Nov on."""
    cid = world.consumer_ids[world.ivrs["DIV1"][n]]
    to_prepaid(session, cid, effective_from=date(2026, 11, 20), opening_balance_inr=D(opening),
               source_id=f"mig-{cid}", actor=Actor("system", "billing"))  # fmt: skip
    for i in range(charges):
        day = date(2026, 11, 21) + timedelta(days=i)
        post(session, cid, "daily_charge", f"daily:{cid}:{day}", -D(per_day), business_day=day, actor=STAFF)
    session.commit()
    return cid


def charge(session: Any, cid: int, day: date, amount: str = "20.00") -> None:
    post(session, cid, "daily_charge", f"daily:{cid}:{day}", -D(amount), business_day=day, actor=STAFF)
    session.commit()


def notices(session: Any, cid: int) -> list[tuple[str, str]]:
    session.expire_all()
    rows = session.scalars(
        select(Notification).where(Notification.consumer_id == cid).order_by(Notification.id)
    )
    return [(n.message_type, n.body) for n in rows]


def test_low_balance_and_zero_alerts_are_sent_once_each_per_crossing(
    session: Any, world: Any, wired: Any
) -> None:
    safety = rules(low_balance_days=(7, 3), negative_limit_inr=D("1000.00"))
    cid = open_account(session, world, 0, "300.00", charges=7)  # 21-27 Nov: balance 160.00, 8 days
    ivrs = world.ivrs["DIV1"][0]

    def run(day: date) -> Any:
        result = evaluate(session, day, safety, TUESDAY_11_IST)
        session.commit()
        return result

    assert run(date(2026, 11, 27)).low_notices == 0
    charge(session, cid, date(2026, 11, 28))  # 140.00: 7 days, not fewer than 7
    assert run(date(2026, 11, 28)).low_notices == 0
    charge(session, cid, date(2026, 11, 29))  # 120.00: 6 days < 7
    assert run(date(2026, 11, 29)).low_notices == 1
    assert run(date(2026, 11, 29)).low_notices == 0  # the same run again: told already
    charge(session, cid, date(2026, 11, 30))  # 100.00: 5 days, the same level
    assert run(date(2026, 11, 30)).low_notices == 0
    charge(session, cid, date(2026, 12, 1), "50.00")  # 50.00 at 24.29 a day: 2 days < 3
    assert run(date(2026, 12, 1)).low_notices == 1
    charge(session, cid, date(2026, 12, 2), "50.00")  # 0.00
    zero = run(date(2026, 12, 2))
    assert (zero.zero_notices, zero.low_notices, zero.disconnections) == (1, 0, 0)
    charge(session, cid, date(2026, 12, 3), "30.00")  # -30.00: still told
    assert (run(date(2026, 12, 3)).zero_notices, run(date(2026, 12, 3)).low_notices) == (0, 0)
    assert [t for t, _ in notices(session, cid)] == [
        "low_prepaid_balance",
        "low_prepaid_balance",
        "zero_prepaid_balance",
    ]
    # A recharge lifts the balance above every level; a later fall is told again.
    post(session, cid, "recharge", "payment:PG-A1", D("500.00"), business_day=date(2026, 12, 3), actor=STAFF)
    session.commit()
    lifted = run(date(2026, 12, 3))
    assert (lifted.low_notices, lifted.zero_notices) == (0, 0)
    assert session.execute(
        text("SELECT low_alert_days, zero_alert_at FROM prepaid_accounts WHERE consumer_id = :c"), {"c": cid}
    ).one() == (None, None)  # fmt: skip
    post(session, cid, "adjustment", "adj:1", D("-420.00"), business_day=date(2026, 12, 3), actor=STAFF)
    session.commit()  # 50.00: 1 day left
    assert run(date(2026, 12, 3)).low_notices == 1
    post(session, cid, "adjustment", "adj:2", D("-50.00"), business_day=date(2026, 12, 3), actor=STAFF)
    session.commit()
    assert run(date(2026, 12, 3)).zero_notices == 1
    sent = notices(session, cid)
    assert [t for t, _ in sent] == ["low_prepaid_balance"] * 2 + ["zero_prepaid_balance", "low_prepaid_balance",
                                                                  "zero_prepaid_balance"]  # fmt: skip
    assert sent[0][1].startswith(f"Consumer {ivrs}") and "120.00" in sent[0][1]
    assert "50.00" in sent[3][1]


def test_friendly_hours_hold_an_automatic_disconnection_until_the_window_opens(
    session: Any, world: Any, wired: Any, hes_sim: Any, add_hes: Any, run_jobs: Any, clock: Any,
) -> None:  # fmt: skip
    add_hes("HES-A", hes_sim.base_url, "json")
    safety = rules(negative_limit_inr=D("50.00"))
    cid = open_account(session, world, 0, "-60.00", charges=1)  # -80.00, below -50.00
    within = open_account(session, world, 1, "-49.00", charges=0)  # above the limit: kept
    found = evaluate(session, date(2026, 11, 21), safety, TUESDAY_22_IST)
    session.commit()
    assert (found.disconnections, found.held) == (1, 1)
    command = session.scalar(select(HesCommand))
    assert (command.action, command.state, command.consumer_id) == ("disconnect", "held", cid)
    assert command.not_before == WEDNESDAY_10_IST  # the next morning, 10:00 IST
    run_jobs()
    hes_sim.wait_idle()
    assert hes_sim.received == []
    # Run again within the hold: nothing new.
    assert (
        evaluate(session, date(2026, 11, 21), safety, TUESDAY_22_IST + timedelta(hours=1)).disconnections == 0
    )
    session.commit()
    assert session.scalar(select(func.count()).select_from(HesCommand)) == 1
    row = session.scalar(select(AutoDisconnection))
    assert (row.consumer_id, row.state, row.not_before, row.balance_inr, row.floor_inr) == (
        cid, "held", WEDNESDAY_10_IST, D("-80.00"), D("-50.00"),
    )  # fmt: skip
    assert within not in {c.consumer_id for c in session.scalars(select(HesCommand))}


@pytest.mark.parametrize(
    ("now", "held_until"),
    [
        # Saturday 5 Dec 2026 17:00 IST: after hours, Sunday closed -> Monday 7 Dec 10:00 IST.
        (datetime(2026, 12, 5, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, 4, 30, tzinfo=UTC)),
        # Thursday 24 Dec 2026 16:30 IST: the 25th is a holiday of MPCZ -> Saturday 26th 10:00 IST.
        (datetime(2026, 12, 24, 11, 0, tzinfo=UTC), datetime(2026, 12, 26, 4, 30, tzinfo=UTC)),
        # Wednesday 2 Dec 2026 06:00 IST: before hours -> the same day 10:00 IST.
        (datetime(2026, 12, 2, 0, 30, tzinfo=UTC), WEDNESDAY_10_IST),
    ],
    ids=["sunday", "holiday", "early-morning"],
)
def test_sundays_holidays_and_night_hold_the_disconnection(
    now: datetime, held_until: datetime, session: Any, world: Any, wired: Any, add_hes: Any
) -> None:
    add_hes("HES-A", "http://127.0.0.1:9", "json")
    cid = open_account(session, world, 0, "-10.00")
    found = evaluate(session, date(2026, 11, 21), rules(), now)
    session.commit()
    assert (found.disconnections, found.held) == (1, 1)
    command = session.scalar(select(HesCommand).where(HesCommand.consumer_id == cid))
    assert (command.state, command.not_before) == ("held", held_until)


def test_a_recharge_cancels_a_held_disconnection(
    session: Any, client: Any, world: Any, wired: Any, add_hes: Any, run_jobs: Any, clock: Any,
) -> None:  # fmt: skip
    add_hes("HES-A", "http://127.0.0.1:9", "json")
    cid = open_account(session, world, 0, "-10.00")
    evaluate(session, date(2026, 11, 21), rules(), TUESDAY_22_IST)
    session.commit()
    clock[0] = TUESDAY_22_IST + timedelta(minutes=5)
    ivrs = world.ivrs["DIV1"][0]
    body = payment("PG-HELD-1", ivrs, "100.00")
    answer = client.post("/api/v1/webhooks/payment_gateway", data=body, headers=signed(body, "k-held"))
    assert answer.status_code == 200 and answer.get_json()["balance_inr"] == "90.00"
    run_jobs()
    session.expire_all()
    command = session.scalar(select(HesCommand))
    assert (command.state, command.reason) == ("cancelled", "recharged")
    row = session.scalar(select(AutoDisconnection))
    assert (row.state, row.finished_at) == ("cancelled", clock[0])
    assert session.execute(
        text("SELECT disconnection_id, disconnected_for_balance FROM prepaid_accounts WHERE consumer_id = :c"),
        {"c": cid},
    ).one() == (None, False)  # fmt: skip


def test_within_the_window_the_relay_opens_through_the_hes_and_the_consumer_is_told(
    session: Any, world: Any, wired: Any, twilio: Any, hes_sim: Any, add_hes: Any, run_jobs: Any, clock: Any,
) -> None:  # fmt: skip
    add_hes("HES-A", hes_sim.base_url, "json")
    cid = open_account(session, world, 0, "-25.50")
    found = evaluate(session, date(2026, 11, 21), rules(), TUESDAY_11_IST)
    session.commit()
    assert (found.disconnections, found.held, found.zero_notices) == (1, 0, 1)
    for _ in range(3):
        run_jobs()
        hes_sim.wait_idle()
    assert [(r.action, r.meter) for r in hes_sim.received] == [("disconnect", "SM100000")]
    session.expire_all()
    assert session.execute(
        text("SELECT a.disconnected_for_balance, a.disconnection_id, c.supply_status FROM prepaid_accounts a"
             " JOIN consumers c ON c.id = a.consumer_id WHERE a.consumer_id = :c"), {"c": cid},
    ).one() == (True, None, "disconnected")  # fmt: skip
    assert session.scalar(select(AutoDisconnection.state)) == "disconnected"
    assert [t for t, _ in notices(session, cid)] == ["zero_prepaid_balance", "disconnected_for_balance"]
    # Disconnected: the next run neither disconnects again nor tells again.
    again = evaluate(session, date(2026, 11, 22), rules(), TUESDAY_11_IST + timedelta(hours=1))
    session.commit()
    assert (again.disconnections, again.zero_notices) == (0, 0)


def test_emergency_credit_is_granted_once_before_a_disconnection(
    session: Any, world: Any, wired: Any, add_hes: Any
) -> None:
    add_hes("HES-A", "http://127.0.0.1:9", "json")
    safety = rules(negative_limit_inr=D("0.00"), emergency_credit_inr=D("100.00"))
    cid = open_account(session, world, 0, "-40.00")
    deep = open_account(session, world, 1, "-150.00")  # beyond the credit: disconnected at once
    first = evaluate(session, date(2026, 11, 21), safety, TUESDAY_11_IST)
    session.commit()
    assert (first.emergency_credits, first.disconnections) == (1, 1)
    assert {c.consumer_id for c in session.scalars(select(HesCommand))} == {deep}
    told = notices(session, cid)
    assert [t for t, _ in told] == ["zero_prepaid_balance", "prepaid_emergency_credit"]
    ivrs = world.ivrs["DIV1"][0]
    assert told[1][1] == (
        f"Consumer {ivrs}: emergency credit of Rs 100.00 given; balance Rs -40.00. Please recharge soon. -CMDMS"
    )
    assert [t for t, _ in notices(session, deep)] == ["zero_prepaid_balance"]
    again = evaluate(session, date(2026, 11, 21), safety, TUESDAY_11_IST + timedelta(hours=1))
    session.commit()
    assert (again.emergency_credits, again.disconnections) == (0, 0)
    charge(session, cid, date(2026, 11, 22), "61.00")  # -101.00: the credit is spent
    spent = evaluate(session, date(2026, 11, 22), safety, TUESDAY_11_IST + timedelta(hours=2))
    session.commit()
    assert (spent.emergency_credits, spent.disconnections) == (0, 1)
    row = session.scalar(select(AutoDisconnection).where(AutoDisconnection.consumer_id == cid))
    assert (row.state, row.balance_inr, row.floor_inr) == ("commanded", D("-101.00"), D("-100.00"))


def test_an_essential_consumer_is_never_disconnected_automatically(
    session: Any, world: Any, wired: Any, add_hes: Any
) -> None:
    add_hes("HES-A", "http://127.0.0.1:9", "json")
    cid = open_account(session, world, 0, "-500.00")
    session.execute(text("UPDATE consumers SET essential_service = true WHERE id = :c"), {"c": cid})
    session.commit()
    found = evaluate(session, date(2026, 11, 21), rules(), TUESDAY_11_IST)
    session.commit()
    assert (found.disconnections, found.essential_kept) == (0, 1)
    assert session.scalar(select(func.count()).select_from(HesCommand)) == 0
