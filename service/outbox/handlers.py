"""Registry of outbox operations: name -> handler (a plain dict, chosen at start-up)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from service.outbox.models import OutboxItem
from service.ports import Adapters


class PermanentError(Exception):
    """The operation can never succeed (invalid number, unknown meter): no retry."""


# handler(session, payload, item, adapters) -> result dict. Runs outside any row lock; it must be
# idempotent (the item may run twice if a worker dies after the call and before commit). The
# adapters are the running app's outside systems, passed in by the job.
Handler = Callable[[Session, dict[str, Any], OutboxItem, Adapters], dict[str, Any] | None]
# on_exhausted(session, item): called in the transaction that marks the item failed.
ExhaustedHook = Callable[[Session, OutboxItem], None]
# on_done(session, item, result): applies the result in the transaction that marks it done
# (e.g. completes the waiting service task and advances its process instance).
DoneHook = Callable[[Session, OutboxItem, dict[str, Any] | None], None]


@dataclass(frozen=True)
class Operation:
    handle: Handler
    on_exhausted: ExhaustedHook | None = None
    on_done: DoneHook | None = None
    # Base back-off seconds; attempt n waits base * 4**(n-1), capped at 1 hour.
    backoff_seconds: float = 5.0


OPERATIONS: dict[str, Operation] = {}


def billing_client(adapters: Adapters) -> Any:
    """The billing adapter, or a permanent failure when billing is not configured."""
    if adapters.billing is None:
        raise PermanentError("billing is not configured (CMDMS_BILLING_URL)")
    return adapters.billing


def register(
    name: str,
    handle: Handler,
    on_exhausted: ExhaustedHook | None = None,
    on_done: DoneHook | None = None,
    backoff_seconds: float = 5.0,
) -> None:
    OPERATIONS[name] = Operation(handle, on_exhausted, on_done, backoff_seconds)
