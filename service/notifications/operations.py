"""Outbox operations `notify.sms` and `notify.push` for BPMN service tasks.

The handler only checks the payload (outbox handlers must not write); the notification row
is written by `on_done`, in the transaction that marks the outbox item done, so a re-run
writes nothing twice (dedupe key `outbox:<item id>` unless the payload names one).
Payload: {"consumer_id" | "user_id", "message_type", "params", "dedupe_key"?}.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from notifications.templates import ParamError
from service.notifications.engine import current_engine
from service.notifications.sending import notify
from service.outbox import OutboxItem
from service.outbox.handlers import PermanentError, register
from service.ports import Adapters

CHANNEL_PLANS = {"notify.sms": ("sms",), "notify.push": ("push", "sms")}


def check_request(payload: dict[str, Any]) -> None:
    """Raises ValueError naming what is wrong with {"consumer_id" | "user_id", "message_type", "params"}."""
    engine = current_engine()
    message_type = payload.get("message_type")
    if not isinstance(message_type, str) or message_type not in engine.policy.message_types:
        raise ValueError(f"message_type: unknown {message_type!r}")
    if ("consumer_id" in payload) == ("user_id" in payload):
        raise ValueError("give exactly one of consumer_id and user_id")
    params = payload.get("params") or {}
    if not isinstance(params, dict):
        raise ValueError("params: expected an object")
    try:
        engine.templates.render(message_type, "en", params)
    except ParamError as exc:
        raise ValueError(str(exc)) from None


def _check(session: Session, payload: dict[str, Any], item: OutboxItem, adapters: Adapters) -> dict[str, Any]:
    try:
        check_request(payload)
    except ValueError as exc:
        raise PermanentError(str(exc)) from None
    return {"checked": True}


def _write(session: Session, item: OutboxItem, result: dict[str, Any] | None) -> None:
    payload = dict(item.payload)
    try:
        sent = notify(
            session,
            consumer_id=payload.get("consumer_id"),
            user_id=payload.get("user_id"),
            message_type=payload["message_type"],
            params=payload.get("params") or {},
            dedupe_key=str(payload.get("dedupe_key") or f"outbox:{item.id}"),
            channels=CHANNEL_PLANS[item.operation],
        )
    except ValueError as exc:  # unknown recipient: the task's result says so
        item.result = {"notification_id": None, "status": "failed", "error": str(exc)}
        return
    item.result = {"notification_id": sent.notification_id, "status": sent.status}


def register_operations() -> None:
    for name in CHANNEL_PLANS:
        register(name, _check, on_done=_write)
