"""Prepayment: tariffs priced from `rules/tariffs/`, an append-only ledger per consumer with a
cached balance, migration between postpaid and prepaid, daily deduction after VEE, top-up by
signed webhook, low-balance alerts and automatic disconnection within the safety rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Flask

from service.prepaid.ledger import LedgerError, Posted, balance, post, reverse
from service.prepaid.modes import ModeChange, to_postpaid, to_prepaid
from service.prepaid.statement import Statement, StatementLine, statement

__all__ = [
    "LedgerError", "ModeChange", "Posted", "Statement", "StatementLine", "balance", "post", "reverse",
    "statement", "to_postpaid", "to_prepaid",
]  # fmt: skip
RULES_KEY = "cmdms.prepaid_rules"


def now() -> datetime:
    """The clock of the app running the request or job (the `clock` port; tests set it)."""
    from flask import current_app

    clock = current_app.extensions["cmdms.ports"].get("clock")
    return clock() if clock is not None else datetime.now(UTC)


def _commands_finished(session: Any, commands: list[Any]) -> None:
    from flask import current_app

    from service.prepaid import relay

    rules = current_app.extensions[RULES_KEY].prepaid
    relay.on_commands_finished(session, commands, now(), rules.reconnect_above_inr)


def init_app(app: Flask) -> None:
    from flask import current_app

    from rules.disconnection_safety import load
    from service.commands.replies import FINISHED_LISTENERS
    from service.ops.periodic import register_periodic
    from service.prepaid import jobs, models, relay, topup  # noqa: F401  (models registers the tables)
    from service.processes.operations import OperationContext, register_operation
    from service.processes.webhooks import register_handler

    # The safety file's `prepaid:` section; a test or an operator may swap it on the app.
    app.extensions[RULES_KEY] = load()

    def check(params: dict[str, Any], context: OperationContext) -> dict[str, Any]:
        return {"checked": True}

    def reconnect(session: Any, params: dict[str, Any], context: OperationContext) -> dict[str, Any]:
        return topup.reconnect_if_due(session, params, current_app.extensions[RULES_KEY].prepaid, now())

    def notice(session: Any, params: dict[str, Any], context: OperationContext) -> dict[str, Any]:
        return topup.recharge_notice(session, params, now())

    register_operation(
        "prepaid.reconnect_if_due", check, backoff_seconds=1.0, max_attempts=3, write=reconnect
    )
    register_operation("prepaid.recharge_notice", check, backoff_seconds=5.0, max_attempts=3, write=notice)
    register_handler("prepaid.payment", topup.payment_handler)
    if _commands_finished not in FINISHED_LISTENERS:
        FINISHED_LISTENERS.append(_commands_finished)
    register_periodic("prepaid.daily_deduction", 3600, jobs.daily_deduction, queue="bulk")
