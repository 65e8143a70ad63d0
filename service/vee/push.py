"""The outbox operation that pushes stored determinants to billing (retried, idempotent)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from integrations.billing.client import PermanentBillingError
from integrations.billing.determinants import send_determinants
from service.outbox import OutboxItem
from service.outbox.handlers import PermanentError, billing_client, register
from service.ports import Adapters
from service.vee.determinants import OPERATION, idempotency_key
from service.vee.models import BillingDeterminants


def push(session: Session, payload: dict[str, Any], item: OutboxItem, adapters: Adapters) -> dict[str, Any]:
    row = session.get(BillingDeterminants, int(payload["determinants_id"]))
    if row is None:
        raise PermanentError(f"determinants {payload['determinants_id']} not found")
    try:
        answer = send_determinants(billing_client(adapters), row.payload, idempotency_key(row))
    except PermanentBillingError as exc:
        raise PermanentError(str(exc)) from exc
    return {"billing": answer, "idempotency_key": idempotency_key(row)}


def register_operation() -> None:
    register(OPERATION, push, backoff_seconds=30.0)
