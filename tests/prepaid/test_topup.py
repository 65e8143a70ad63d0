"""Top-up by signed webhook: the ledger credit once per payment id, the reconnection through the HES
simulator (real RQ workers, the real engine, callbacks through a live server), the SMS with the
new balance; refused bodies store nothing."""

from __future__ import annotations

import json
import time
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text

from integrations.billing.client import sign
from service.audit.log import Actor
from service.commands.models import HesCommand
from service.notifications.models import Notification
from service.prepaid import balance, to_prepaid
from service.processes.models import ProcessInstance, WebhookReceipt
from tests.disconnections.conftest import make_world

SECRETS = {"payment_gateway": "gateway-webhook-secret", "billing": "billing-webhook-secret"}
D = Decimal


def payment(payment_id: str, ivrs: str, amount: Any = "500.00", **extra: Any) -> bytes:
    data = {"payment_id": payment_id, "ivrs_number": ivrs, "amount_inr": amount,
            "paid_at": "2026-12-01T10:55:00+05:30", **extra}  # fmt: skip
    return json.dumps({"type": "prepaid.payment", "data": data}).encode()


def signed(body: bytes, key: str, system: str = "payment_gateway", at: int | None = None) -> dict[str, str]:
    timestamp = str(at if at is not None else int(time.time()))
    return {"Content-Type": "application/json", "X-CMDMS-Timestamp": timestamp,
            "X-CMDMS-Signature": sign(SECRETS[system], timestamp, body), "Idempotency-Key": key}  # fmt: skip


@pytest.fixture
def account(session: Any) -> tuple[int, str]:
    """A prepaid consumer whose relay was opened for a negative balance (-150.00)."""
    world = make_world(session, per_division=2)
    ivrs = world.ivrs["DIV1"][0]
    cid = world.consumer_ids[ivrs]
    to_prepaid(session, cid, effective_from=date(2026, 11, 1), opening_balance_inr=D("-150.00"),
               source_id="mig-topup", actor=Actor("system", "billing"))  # fmt: skip
    session.execute(text("UPDATE prepaid_accounts SET disconnected_for_balance = true WHERE consumer_id = :c"),
                    {"c": cid})  # fmt: skip
    session.execute(text("UPDATE consumers SET supply_status = 'disconnected' WHERE id = :c"), {"c": cid})
    session.commit()
    return cid, ivrs


def _recharges(session: Any, cid: int) -> list[tuple[str, Decimal, Decimal]]:
    rows = session.execute(
        text("SELECT source_id, amount_inr, balance_after_inr FROM prepaid_ledger"
             " WHERE consumer_id = :c AND kind = 'recharge' ORDER BY id"), {"c": cid},
    )  # fmt: skip
    return [tuple(r) for r in rows]


def _drain(run_jobs: Any, hes_sim: Any) -> None:
    for _ in range(3):  # process steps, HES send, callback, notifications
        run_jobs()
        hes_sim.wait_idle()


def test_a_top_up_reconnects_a_consumer_disconnected_for_balance_through_the_hes(
    session: Any, client: Any, account: tuple[int, str], clock: Any, hes_sim: Any, add_hes: Any,
    wired: Any, twilio: Any, run_jobs: Any,
) -> None:  # fmt: skip
    cid, ivrs = account
    add_hes("HES-A", hes_sim.base_url, "json", batch_size=20, rate_per_second=1000)
    body = payment("PG-2026-0001", ivrs, "500.00")
    answer = client.post("/api/v1/webhooks/payment_gateway", data=body, headers=signed(body, "k-1"))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"payment_id": "PG-2026-0001", "ivrs_number": ivrs, "entry_id": answer.get_json()["entry_id"],
                                 "amount_inr": "500.00", "balance_inr": "350.00", "duplicate": False}  # fmt: skip
    _drain(run_jobs, hes_sim)
    assert hes_sim.callback_errors == []
    assert [(r.action, r.meter) for r in hes_sim.received] == [("connect", "SM100000")]
    session.expire_all()
    command = session.scalar(select(HesCommand))
    assert (command.command_id, command.state, command.consumer_id) == (
        f"PPC{cid}-{answer.get_json()['entry_id']}", "succeeded", cid,
    )  # fmt: skip
    flags = session.execute(
        text("SELECT a.disconnected_for_balance, c.supply_status FROM prepaid_accounts a"
             " JOIN consumers c ON c.id = a.consumer_id WHERE a.consumer_id = :c"), {"c": cid},
    ).one()  # fmt: skip
    assert tuple(flags) == (False, "connected")
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.process_id == "prepaid_topup"))
    assert (instance.business_key, instance.status) == ("topup:PG-2026-0001", "completed")
    notes = {
        n.message_type: n
        for n in session.scalars(select(Notification).where(Notification.consumer_id == cid))
    }
    assert sorted(notes) == ["recharge_confirmation", "reconnection"]
    assert notes["recharge_confirmation"].body == (
        f"Consumer {ivrs}: recharge of Rs 500.00 received (ref PG-2026-0001). Balance Rs 350.00. -CMDMS"
    )
    assert {n.status for n in notes.values()} <= {"sent", "delivered"}
    assert any("Balance Rs 350.00" in m["Body"] for m in twilio.messages)


def test_a_top_up_that_leaves_the_balance_at_or_below_the_threshold_does_not_reconnect(
    session: Any, client: Any, account: tuple[int, str], clock: Any, hes_sim: Any, add_hes: Any,
    wired: Any, run_jobs: Any,
) -> None:  # fmt: skip
    cid, ivrs = account
    add_hes("HES-A", hes_sim.base_url, "json")
    body = payment("PG-2026-0002", ivrs, "150")
    answer = client.post("/api/v1/webhooks/payment_gateway", data=body, headers=signed(body, "k-2"))
    assert answer.status_code == 200 and answer.get_json()["balance_inr"] == "0.00"
    _drain(run_jobs, hes_sim)
    assert hes_sim.received == [] and session.scalar(select(func.count()).select_from(HesCommand)) == 0
    session.expire_all()
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.process_id == "prepaid_topup"))
    assert instance.status == "completed"
    assert session.scalar(
        text("SELECT disconnected_for_balance FROM prepaid_accounts WHERE consumer_id = :c"), {"c": cid}
    ) is True  # fmt: skip


def test_a_payment_notified_twice_by_both_systems_credits_once_with_the_same_answer(
    session: Any, client: Any, account: tuple[int, str], clock: Any, wired: Any,
) -> None:  # fmt: skip
    cid, ivrs = account
    body = payment("PG-2026-0003", ivrs, "250.50")
    first = client.post("/api/v1/webhooks/payment_gateway", data=body, headers=signed(body, "gw-1"))
    by_billing = client.post(
        "/api/v1/webhooks/billing", data=body, headers=signed(body, "bill-9", system="billing")
    )
    replay = client.post("/api/v1/webhooks/payment_gateway", data=body, headers=signed(body, "gw-1"))
    assert first.status_code == by_billing.status_code == replay.status_code == 200
    assert by_billing.get_json() == {**first.get_json(), "duplicate": True}
    assert replay.get_json() == {**first.get_json(), "replayed": True}
    assert _recharges(session, cid) == [("payment:PG-2026-0003", D("250.50"), D("100.50"))]
    assert balance(session, cid) == D("100.50")
    assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 1
    # The same payment id with another amount is a conflict, not a second credit.
    other = payment("PG-2026-0003", ivrs, "999.00")
    conflict = client.post(
        "/api/v1/webhooks/billing", data=other, headers=signed(other, "bill-10", system="billing")
    )
    assert conflict.status_code == 409 and conflict.get_json()["error"] == "payment_conflict"
    assert balance(session, cid) == D("100.50")


@pytest.mark.parametrize(
    ("make", "status", "error"),
    [
        (lambda ivrs: (payment("PG-X1", ivrs), {"X-CMDMS-Signature": "0" * 64}), 401, "invalid_signature"),
        (lambda ivrs: (payment("PG-X2", ivrs), {"at": int(time.time()) - 3600}), 401, "stale_timestamp"),
        (lambda ivrs: (b'{"type": "prepaid.payment", "data": {', {}), 400, "invalid_json"),
        (lambda ivrs: (payment("PG-X3", ivrs, 499.5), {}), 422, "invalid_field"),
        (lambda ivrs: (payment("PG-X4", ivrs, "12.345"), {}), 422, "invalid_field"),
        (lambda ivrs: (payment("PG-X5", ivrs, "-5.00"), {}), 422, "invalid_field"),
        (lambda ivrs: (payment("PG X6 <script>", ivrs), {}), 422, "invalid_field"),
        (lambda ivrs: (payment("PG-X7", ivrs, paid_at="yesterday"), {}), 422, "invalid_field"),
        (lambda ivrs: (payment("PG-X8", "NOBODY"), {}), 422, "unknown_consumer"),
        (lambda ivrs: (payment("PG-X9", ivrs, note="x" * 5000), {}), 413, "body_too_large"),
        (lambda ivrs: (payment("PG-X10", ivrs), {"Idempotency-Key": ""}), 400, "missing_idempotency_key"),
    ],
    ids=["bad-signature", "old-timestamp", "malformed", "float-amount", "three-decimals", "negative",
         "hostile-id", "bad-time", "unknown-consumer", "oversized", "no-key"],
)  # fmt: skip
def test_refused_payment_webhooks_give_their_error_and_store_nothing(
    make: Any, status: int, error: str, session: Any, client: Any, account: tuple[int, str], clock: Any,
) -> None:  # fmt: skip
    cid, ivrs = account
    good = payment("PG-GOOD", ivrs, "100.00")
    assert (
        client.post("/api/v1/webhooks/payment_gateway", data=good, headers=signed(good, "good")).status_code
        == 200
    )
    receipts = session.scalar(select(func.count()).select_from(WebhookReceipt))
    body, tweak = make(ivrs)
    headers = signed(body, "bad", at=tweak.pop("at", None))
    headers.update(tweak)
    answer = client.post("/api/v1/webhooks/payment_gateway", data=body, headers=headers)
    assert (answer.status_code, answer.get_json()["error"]) == (status, error), answer.get_json()
    session.expire_all()
    assert _recharges(session, cid) == [("payment:PG-GOOD", D("100.00"), D("-50.00"))]
    assert session.scalar(select(func.count()).select_from(WebhookReceipt)) == receipts
    assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 1
