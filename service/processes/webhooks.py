"""Signed webhooks from outside systems: verify, dedupe by idempotency key, start the mapped process
(or hand the event to an area's registered handler, e.g. billing's DO and RC lists)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from integrations.billing.client import verify
from service.audit.log import Actor
from service.masterdata import Consumer
from service.orgs import OrgUnit
from service.processes.library import workflows
from service.processes.models import ProcessInstance, WebhookReceipt
from service.processes.runtime import ProcessConflict, StartRequest, start_instance

WINDOW_SECONDS = 300
BUSINESS_KEY_MAX = int(ProcessInstance.__table__.c.business_key.type.length)


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: dict[str, Any]


class WebhookRefused(Exception):
    def __init__(self, status: int, error: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.error, self.details = status, error, details


# An event mapped with `handler: <name>` instead of `process:` goes to the function an area
# registered under that name: (session, system, payload) -> answer; it raises WebhookRefused to
# refuse (nothing is stored then, no receipt either, so a corrected body may come again).
Handler = Callable[[Session, str, dict[str, Any]], "WebhookAnswer"]
HANDLERS: dict[str, Handler] = {}


def register_handler(name: str, handler: Handler) -> None:
    HANDLERS[name] = handler


def check_signature(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float | None = None
) -> None:
    if not timestamp or not signature:
        raise WebhookRefused(
            401, "missing_signature", "Send X-CMDMS-Timestamp and X-CMDMS-Signature headers."
        )
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookRefused(401, "invalid_timestamp", "X-CMDMS-Timestamp must be Unix seconds.") from None
    if abs((now or time.time()) - sent_at) > WINDOW_SECONDS:
        raise WebhookRefused(
            401,
            "stale_timestamp",
            f"The timestamp is more than {WINDOW_SECONDS} s from our clock.",
            timestamp=sent_at,
        )
    # Headers arrive as latin-1 text: a non-ASCII signature can never match (and would make the
    # constant-time comparison raise), so it is refused like any wrong one.
    if not signature.isascii() or not timestamp.isascii() or not verify(secret, timestamp, body, signature):
        raise WebhookRefused(401, "invalid_signature", "The signature does not match the body and timestamp.")


def _path(payload: Any, dotted: str | None) -> Any:
    if not dotted:
        return None
    value = payload
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def receive(session: Session, system: str, idempotency_key: str, body: bytes) -> WebhookAnswer:
    """After the signature check: replay the first answer, or start the mapped process."""
    if not idempotency_key or len(idempotency_key) > 200:
        raise WebhookRefused(
            400, "missing_idempotency_key", "Send an Idempotency-Key header (at most 200 characters)."
        )
    digest = hashlib.sha256(body).hexdigest()
    # Two deliveries of one key at once: the second waits here, then finds the first's receipt.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"webhook:{system}:{idempotency_key}"}
    )
    previous = session.scalar(
        select(WebhookReceipt).where(
            WebhookReceipt.system == system, WebhookReceipt.idempotency_key == idempotency_key
        )
    )
    if previous is not None:
        if previous.body_sha256 != digest:
            raise WebhookRefused(
                422, "idempotency_key_reused", "This Idempotency-Key was used with a different body."
            )
        return WebhookAnswer(previous.status_code, {**previous.response, "replayed": True})
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WebhookRefused(400, "invalid_json", f"The body is not JSON: {exc}") from None
    except RecursionError:
        raise WebhookRefused(400, "too_deeply_nested", "The JSON body is nested too deeply.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise WebhookRefused(422, "missing_type", 'The body must be a JSON object with a string "type".')
    mapping = workflows().webhooks.get(system, {}).get(payload["type"])
    if mapping is None:
        known = sorted(workflows().webhooks.get(system, {}))
        raise WebhookRefused(
            422, "unknown_event_type", f"Unknown event type {payload['type']!r}.", known_types=known
        )
    limit = mapping.get("max_body_bytes")
    if limit is not None and len(body) > int(limit):
        raise WebhookRefused(
            413, "body_too_large", f"A {payload['type']} event is at most {int(limit)} bytes.",
            limit=int(limit), size=len(body),
        )  # fmt: skip
    handler = HANDLERS.get(str(mapping.get("handler"))) if mapping.get("handler") else None
    if mapping.get("handler") and handler is None:
        raise LookupError(f"webhooks.yaml: no handler registered as {mapping['handler']!r}")
    answer = handler(session, system, payload) if handler else _start(session, system, payload, mapping)
    session.add(
        WebhookReceipt(
            system=system, idempotency_key=idempotency_key, body_sha256=digest, event_type=payload["type"][:100],
            status_code=answer.status, response=answer.body,
        )
    )  # fmt: skip
    return answer


def _start(session: Session, system: str, payload: dict[str, Any], mapping: dict[str, Any]) -> WebhookAnswer:
    data = {name: _path(payload, path) for name, path in (mapping.get("data") or {}).items()}
    business_key = _path(payload, mapping.get("business_key"))
    if business_key is not None and (
        not isinstance(business_key, (str, int)) or isinstance(business_key, bool)
    ):
        raise WebhookRefused(
            422,
            "invalid_business_key",
            f"{mapping.get('business_key')} must be a string (or an integer).",
            field=mapping.get("business_key"),
        )
    if business_key is not None and len(str(business_key)) > BUSINESS_KEY_MAX:
        raise WebhookRefused(
            422,
            "field_too_long",
            f"{mapping.get('business_key')} is longer than {BUSINESS_KEY_MAX} characters.",
            field=mapping.get("business_key"),
            limit=BUSINESS_KEY_MAX,
        )
    org_unit_id = resolve_org_unit(
        session, _path(payload, mapping.get("org_unit")), _path(payload, mapping.get("consumer"))
    )
    if org_unit_id is None:
        raise WebhookRefused(
            422, "unknown_org_unit", "Neither the org unit code nor the consumer in the event is known."
        )
    try:
        instance = start_instance(
            session,
            StartRequest(
                str(mapping["process"]),
                data,
                None if business_key is None else str(business_key),
                org_unit_id,
            ),
            Actor("system", system),
        )
    except ProcessConflict as exc:
        return WebhookAnswer(409, {"error": exc.error, "message": str(exc), **exc.details})
    return WebhookAnswer(
        201, {"instance_id": instance.id, "process_id": instance.process_id, "status": instance.status}
    )


def resolve_org_unit(session: Session, org_unit_code: Any, ivrs_number: Any) -> int | None:
    if isinstance(org_unit_code, str) and org_unit_code:
        found = session.scalar(select(OrgUnit.id).where(OrgUnit.code == org_unit_code))
        if found is not None:
            return int(found)
    if isinstance(ivrs_number, str) and ivrs_number:
        found = session.scalar(select(Consumer.org_unit_id).where(Consumer.ivrs_number == ivrs_number))
        if found is not None:
            return int(found)
    return None
