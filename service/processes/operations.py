"""Service-task operations (`billing.post`, `notify.sms`, `hes.disconnect`, ...) run by the outbox.

Each operation is registered as the outbox operation "workflow:<name>": the outbox runs it on an
RQ worker with retries and back-off; its result completes the service task (`on_done`), and
exhausted retries open an incident (`on_exhausted`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from integrations.billing.client import BillingClient, PermanentBillingError
from service.audit.log import Actor
from service.outbox import handlers
from service.outbox.handlers import PermanentError
from service.outbox.models import OutboxItem
from service.processes.runtime import (
    OUTBOX_PREFIX,
    ProcessConflict,
    ProcessNotFound,
    advance_instance,
    lock_instance,
    open_incident,
)
from workflows.engine import EngineError, ServiceResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OperationContext:
    instance_id: int
    task_id: str
    idempotency_key: str  # stable across retries: the outside system dedupes on it
    attempt: int


# operation(params, context) -> result dict (stored in the process as the result variable)
OperationFn = Callable[[dict[str, Any], OperationContext], dict[str, Any] | None]
SERVICE_OPERATIONS: dict[str, OperationFn] = {}


def register_operation(
    name: str, fn: OperationFn, backoff_seconds: float = 5.0, max_attempts: int = 5
) -> None:
    """Make `name` usable in service tasks (and known to `flask workflows check`)."""
    SERVICE_OPERATIONS[name] = fn

    def handle(session: Session, payload: dict[str, Any], item: OutboxItem) -> dict[str, Any] | None:
        context = OperationContext(
            instance_id=int(payload["instance_id"]),
            task_id=str(payload["task_id"]),
            idempotency_key=f"cmdms-wf-{payload['instance_id']}-{payload['task_id']}",
            attempt=item.attempts,
        )
        return fn(dict(payload.get("params") or {}), context)

    handlers.register(
        OUTBOX_PREFIX + name,
        handle,
        on_exhausted=_on_exhausted,
        on_done=_on_done,
        backoff_seconds=backoff_seconds,
    )


def _on_done(session: Session, item: OutboxItem, result: dict[str, Any] | None) -> None:
    payload = item.payload
    actor = Actor("system", f"worker:{item.operation.removeprefix(OUTBOX_PREFIX)}")
    try:
        advance_instance(
            session, int(payload["instance_id"]), ServiceResult(str(payload["task_id"]), result), actor
        )
    except (EngineError, ProcessConflict, ProcessNotFound) as exc:
        # The task was skipped by an admin or the instance ended meanwhile: nothing to resume.
        log.warning("service result of outbox item %s not applied: %s", item.id, exc)


def _on_exhausted(session: Session, item: OutboxItem) -> None:
    payload = item.payload
    try:
        instance = lock_instance(session, int(payload["instance_id"]))
    except ProcessNotFound:
        return
    operation = item.operation.removeprefix(OUTBOX_PREFIX)
    open_incident(
        session, instance, str(payload["task_id"]), str(payload.get("bpmn_id", "")), "service", operation,
        item.id, item.last_error or "failed", Actor("system", f"worker:{operation}"),
    )  # fmt: skip


# Built-in operations ---------------------------------------------------------------------
def _billing_client() -> Any:
    port = current_app.extensions["cmdms.ports"].get("billing")
    if port is not None:
        return port
    config = current_app.extensions["cmdms.config"]
    if not config.billing_url:
        raise PermanentError("billing is not configured (CMDMS_BILLING_URL)")
    return BillingClient(config.billing_url, config.webhook_secrets.get("billing", ""))


def billing_post(params: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    path = str(params.get("path") or "")
    if not path.startswith("/"):
        raise PermanentError(f"billing.post needs a path starting with '/', got {path!r}")
    try:
        answer: dict[str, Any] = _billing_client().post(
            path, params.get("body") or {}, context.idempotency_key
        )
    except PermanentBillingError as exc:
        raise PermanentError(str(exc)) from exc
    return answer


def notify_sms(params: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    sender = current_app.extensions["cmdms.ports"].get("sms")
    if sender is None:
        raise PermanentError("no SMS port configured")
    receipt = sender.send(str(params["to"]), str(params["text"]), str(params.get("template_id", "workflow")))
    return {"receipt": str(getattr(receipt, "provider_id", receipt))}


def hes_disconnect(params: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    hes = current_app.extensions["cmdms.ports"].get("hes")
    if hes is None:
        raise PermanentError("no HES port configured")
    command_id = str(params.get("command_id") or context.idempotency_key)
    hes.disconnect(str(params["meter"]), command_id)
    return {"command_id": command_id}


def register_builtin_operations() -> None:
    register_operation("billing.post", billing_post)
    register_operation("notify.sms", notify_sms)
    register_operation("hes.disconnect", hes_disconnect)
