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

from sqlalchemy.orm import Session

from integrations.billing.client import PermanentBillingError
from service import notifications
from service.audit.log import Actor
from service.outbox import OutboxItem, handlers
from service.outbox.handlers import PermanentError, billing_client
from service.ports import Adapters
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
    # The running app's outside systems, passed in by the outbox job; None for a local write
    # (it runs in the completing transaction and calls no outside system).
    adapters: Adapters | None = None


# operation(params, context) -> result dict (stored in the process as the result variable)
OperationFn = Callable[[dict[str, Any], OperationContext], dict[str, Any] | None]
# write(session, params, context) -> result dict, in the transaction that completes the task
LocalWrite = Callable[[Session, dict[str, Any], OperationContext], dict[str, Any]]
SERVICE_OPERATIONS: dict[str, OperationFn] = {}


def register_operation(
    name: str,
    fn: OperationFn,
    backoff_seconds: float = 5.0,
    max_attempts: int = 5,
    write: LocalWrite | None = None,
) -> None:
    """Make `name` usable in service tasks (and known to `flask workflows check`).

    `write`: an operation that writes rows of our own (a notification). The worker then only
    runs `fn` as the check of the parameters (outbox handlers must not write); `write` runs in
    the transaction that marks the item done and completes the task, so a re-run writes
    nothing twice."""
    SERVICE_OPERATIONS[name] = fn

    def handle(
        session: Session, payload: dict[str, Any], item: OutboxItem, adapters: Adapters
    ) -> dict[str, Any] | None:
        return fn(dict(payload.get("params") or {}), _context(item, adapters))

    def write_then_resume(session: Session, item: OutboxItem, result: dict[str, Any] | None) -> None:
        assert write is not None
        item.result = write(session, dict(item.payload.get("params") or {}), _context(item))
        _on_done(session, item, item.result)

    handlers.register(
        OUTBOX_PREFIX + name,
        handle,
        on_exhausted=_on_exhausted,
        on_done=_on_done if write is None else write_then_resume,
        backoff_seconds=backoff_seconds,
    )


def _context(item: OutboxItem, adapters: Adapters | None = None) -> OperationContext:
    payload = item.payload
    return OperationContext(
        instance_id=int(payload["instance_id"]),
        task_id=str(payload["task_id"]),
        idempotency_key=f"cmdms-wf-{payload['instance_id']}-{payload['task_id']}",
        attempt=item.attempts,
        adapters=adapters,
    )


def _outside(context: OperationContext) -> Adapters:
    assert context.adapters is not None, "a local write calls no outside system"
    return context.adapters


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
def billing_post(params: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    path = str(params.get("path") or "")
    if not path.startswith("/"):
        raise PermanentError(f"billing.post needs a path starting with '/', got {path!r}")
    try:
        answer: dict[str, Any] = billing_client(_outside(context)).post(
            path, params.get("body") or {}, context.idempotency_key
        )
    except PermanentBillingError as exc:
        raise PermanentError(str(exc)) from exc
    return answer


def check_notice(params: dict[str, Any], context: OperationContext) -> None:
    """notify.sms parameters: {"consumer_id" | "user_id", "message_type", "params"}."""
    try:
        notifications.check_request(params)
    except ValueError as exc:
        raise PermanentError(str(exc)) from None


def write_notice(session: Session, params: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Through the notifications area: its template, opt-out, quiet hours and a notification row."""
    try:
        sent = notifications.notify(
            session,
            consumer_id=params.get("consumer_id"),
            user_id=params.get("user_id"),
            message_type=str(params["message_type"]),
            params=params.get("params") or {},
            dedupe_key=f"wf:{context.instance_id}:{context.task_id}",
            channels=("sms",),
        )
    except ValueError as exc:  # an unknown recipient: the process sees it in the task's result
        return {"notification_id": None, "status": "failed", "error": str(exc)}
    return {"notification_id": sent.notification_id, "status": sent.status}


def check_hes_disconnect(params: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    if not isinstance(params.get("meter"), str) or not params["meter"]:
        raise PermanentError("hes.disconnect needs the meter's serial number as 'meter'")
    return {"checked": True}


def write_hes_disconnect(
    session: Session, params: dict[str, Any], context: OperationContext
) -> dict[str, Any]:
    """A disconnect command for one meter through service.commands (sent in the HES's batches).

    The command id is the task's idempotency key, so a re-run finds the same command."""
    from service.commands import issuing
    from service.masterdata.supply import meter_by_serial

    meter = meter_by_serial(session, str(params["meter"]))
    if meter is None or not meter.hes_code:
        return {"command_id": None, "error": f"meter {params['meter']!r} is unknown or behind no HES"}
    command_id = str(params.get("command_id") or context.idempotency_key)[:64]
    order = issuing.CommandOrder(
        command_id, "disconnect", meter.meter_id, meter.serial, meter.hes_code, meter.org_unit_id
    )
    try:
        ids = issuing.create(session, [order], batch_key=f"wf:{context.instance_id}")
    except issuing.UnknownHes as exc:
        return {"command_id": None, "error": str(exc)}
    issuing.schedule(session, list(ids.values()))
    return {"command_id": command_id}


def register_builtin_operations() -> None:
    register_operation("billing.post", billing_post)
    register_operation("notify.sms", check_notice, write=write_notice)
    register_operation("hes.disconnect", check_hes_disconnect, write=write_hes_disconnect)
