"""The outbox operation that pushes stored determinants to billing (retried, idempotent)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from integrations.billing.client import BillingClient, PermanentBillingError
from integrations.billing.determinants import send_determinants
from service.outbox import OutboxItem
from service.outbox.handlers import PermanentError, register
from service.vee.determinants import OPERATION, idempotency_key
from service.vee.models import BillingDeterminants


def _client() -> Any:
    port = current_app.extensions["cmdms.ports"].get("billing")
    if port is not None:
        return port
    config = current_app.extensions["cmdms.config"]
    if not config.billing_url:
        raise PermanentError("billing is not configured (CMDMS_BILLING_URL)")
    return BillingClient(config.billing_url, config.webhook_secrets.get("billing", ""))


def push(session: Session, payload: dict[str, Any], item: OutboxItem) -> dict[str, Any]:
    row = session.get(BillingDeterminants, int(payload["determinants_id"]))
    if row is None:
        raise PermanentError(f"determinants {payload['determinants_id']} not found")
    try:
        answer = send_determinants(_client(), row.payload, idempotency_key(row))
    except PermanentBillingError as exc:
        raise PermanentError(str(exc)) from exc
    return {"billing": answer, "idempotency_key": idempotency_key(row)}


def register_operation() -> None:
    register(OPERATION, push, backoff_seconds=30.0)
