"""Top-up: a payment confirmed by signed webhook (billing or the payment gateway) is credited to the
ledger once per payment id, then workflows/prepaid_topup.bpmn reconnects (if the meter was
disconnected for balance) and tells the consumer the new balance."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from rules.disconnection_safety import PrepaidRules
from service.audit.log import Actor, record
from service.masterdata.supply import consumers_by_id, consumers_by_ivrs
from service.notifications.sending import notify
from service.outbox.handlers import PermanentError
from service.prepaid import alerts, ledger, relay
from service.prepaid.ledger import LedgerError
from service.prepaid.models import AutoDisconnection, PrepaidAccount
from service.processes.runtime import StartRequest, start_instance
from service.processes.webhooks import WebhookAnswer, WebhookRefused

IST = ZoneInfo("Asia/Kolkata")
PROCESS_ID = "prepaid_topup"
MAX_RECHARGE_INR = Decimal("1000000.00")
_PAYMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,79}$")


def _refuse(field: str, message: str) -> WebhookRefused:
    return WebhookRefused(422, "invalid_field", f"data.{field}: {message}", field=field)


def _amount(raw: Any) -> Decimal:
    # A string ("499.00") or a whole number; a JSON float is refused: money is not binary fractions.
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise _refuse("amount_inr", 'an amount in rupees as a string, e.g. "499.00"')
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise _refuse("amount_inr", f"not an amount: {str(raw)[:40]!r}") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise _refuse("amount_inr", "at most two decimals")
    if not Decimal(0) < amount <= MAX_RECHARGE_INR:
        raise _refuse("amount_inr", f"more than 0 and at most {MAX_RECHARGE_INR}")
    return amount.quantize(Decimal("0.01"))


def _paid_at(raw: Any) -> datetime:
    if not isinstance(raw, str) or len(raw) > 40:
        raise _refuse("paid_at", "an ISO 8601 time with its offset, e.g. 2026-12-01T10:15:00+05:30")
    try:
        paid_at = datetime.fromisoformat(raw)
    except ValueError:
        raise _refuse("paid_at", f"not an ISO 8601 time: {raw!r}") from None
    if paid_at.tzinfo is None:
        raise _refuse("paid_at", "the time needs its offset (+05:30 or Z)")
    return paid_at


def _answer(payment_id: str, ivrs: str, facts: ledger.EntryFacts, duplicate: bool) -> WebhookAnswer:
    return WebhookAnswer(
        200,
        {
            "payment_id": payment_id, "ivrs_number": ivrs, "entry_id": facts.entry_id,
            "amount_inr": str(facts.amount_inr), "balance_inr": str(facts.balance_after_inr),
            "duplicate": duplicate,
        },
    )  # fmt: skip


def payment_handler(session: Session, system: str, payload: dict[str, Any]) -> WebhookAnswer:
    """`prepaid.payment`: {"data": {payment_id, ivrs_number, amount_inr, paid_at}}. The same payment
    id again (from either system, under any idempotency key) credits nothing and answers the first
    credit; with another consumer or amount it is 409 `payment_conflict`."""
    data = payload.get("data")
    if not isinstance(data, dict):
        raise WebhookRefused(422, "invalid_field", "data: an object with the payment.", field="data")
    payment_id = data.get("payment_id")
    if not isinstance(payment_id, str) or not _PAYMENT_ID.match(payment_id):
        raise _refuse("payment_id", "1 to 80 letters, digits or . _ : / - (starting with a letter or digit)")
    ivrs = data.get("ivrs_number")
    if not isinstance(ivrs, str) or not 0 < len(ivrs) <= 32:
        raise _refuse("ivrs_number", "the consumer's IVRS number, at most 32 characters")
    amount, paid_at = _amount(data.get("amount_inr")), _paid_at(data.get("paid_at"))
    consumer = consumers_by_ivrs(session, [ivrs]).get(ivrs)
    if consumer is None:
        raise WebhookRefused(
            422, "unknown_consumer", "No consumer has this IVRS number.", field="ivrs_number"
        )
    actor = Actor("system", system)
    try:
        posted = ledger.post(
            session, consumer.consumer_id, "recharge", f"payment:{payment_id}", amount,
            business_day=paid_at.astimezone(IST).date(), actor=actor,
            detail={"payment_id": payment_id, "system": system, "paid_at": paid_at.isoformat()},
        )  # fmt: skip
    except LedgerError as exc:
        if exc.code == "source_conflict":
            raise WebhookRefused(
                409,
                "payment_conflict",
                f"Payment {payment_id} was credited before with another consumer or amount.",
            ) from None
        if exc.code == "not_prepaid":
            raise WebhookRefused(
                409, "not_prepaid", f"Consumer {ivrs} has no open prepaid account."
            ) from None
        raise
    facts = ledger.entry(session, posted.entry_id)
    assert facts is not None
    if posted.created:
        record(session, actor, "prepaid.recharge", "consumer", str(consumer.consumer_id), None,
               {"payment_id": payment_id, "amount_inr": amount, "balance_inr": facts.balance_after_inr})  # fmt: skip
        start_instance(
            session,
            StartRequest(PROCESS_ID, {"consumer_id": consumer.consumer_id, "entry_id": posted.entry_id,
                                      "payment_id": payment_id}, f"topup:{payment_id}"[:120], consumer.org_unit_id),
            actor,
        )  # fmt: skip
    return _answer(payment_id, ivrs, facts, duplicate=not posted.created)


def _recharge(session: Session, params: dict[str, Any]) -> tuple[PrepaidAccount, ledger.EntryFacts]:
    consumer_id, entry_id = int(params["consumer_id"]), int(params["entry_id"])
    facts = ledger.entry(session, entry_id)
    account = session.get(PrepaidAccount, consumer_id, with_for_update=True)
    if facts is None or account is None or facts.consumer_id != consumer_id or facts.kind != "recharge":
        raise PermanentError(f"no recharge {entry_id} of consumer {consumer_id}")
    return account, facts


def reconnect_if_due(
    session: Session, params: dict[str, Any], rules: PrepaidRules, now: datetime
) -> dict[str, Any]:
    """Connect at once when the relay was opened for balance and the balance is now above the
    threshold (a reconnection is never held by the safety window)."""
    account, facts = _recharge(session, params)
    if account.disconnection_id is not None:
        pending = session.get(AutoDisconnection, account.disconnection_id)
        lifted = pending is not None and account.balance_inr >= pending.floor_inr
        if lifted and alerts.cancel_disconnections(session, [account.consumer_id], now):
            return {"reconnect": False, "reason": "held_disconnection_cancelled"}
    if not account.disconnected_for_balance:
        return {"reconnect": False, "reason": "not_disconnected_for_balance"}
    if account.balance_inr <= rules.reconnect_above_inr:
        return {"reconnect": False, "reason": "balance_not_above_threshold",
                "balance_inr": str(account.balance_inr), "threshold_inr": str(rules.reconnect_above_inr)}  # fmt: skip
    command_id = f"{relay.CONNECT_PREFIX}{account.consumer_id}-{facts.entry_id}"
    relay.command(session, account.consumer_id, "connect", command_id, now=now)
    account.disconnect_due_since = None
    return {"reconnect": True, "command_id": command_id}


def recharge_notice(session: Session, params: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The recharge and the balance now (SMS or push, in the consumer's language)."""
    account, facts = _recharge(session, params)
    supply = consumers_by_id(session, [account.consumer_id])[account.consumer_id]
    reference = str(facts.detail.get("payment_id", ""))
    result = notify(
        session, consumer_id=account.consumer_id, message_type="recharge_confirmation",
        params={"ivrs": supply.ivrs_number, "amount_inr": str(facts.amount_inr),
                "balance_inr": str(account.balance_inr),
                "reference": reference if len(reference) <= 20 else reference[-20:]},
        dedupe_key=f"prepaid-recharge:{facts.entry_id}", now=now,
    )  # fmt: skip
    return {"notification_id": result.notification_id, "status": result.status}
