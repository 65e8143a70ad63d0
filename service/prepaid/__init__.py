"""Prepayment: tariffs priced from `rules/tariffs/`, an append-only ledger per consumer with a
cached balance, migration between postpaid and prepaid, daily deduction after VEE, top-up by
signed webhook, low-balance alerts and automatic disconnection within the safety rules."""

from __future__ import annotations

from flask import Flask

from service.prepaid.ledger import LedgerError, Posted, balance, post, reverse
from service.prepaid.modes import ModeChange, to_postpaid, to_prepaid

__all__ = ["LedgerError", "ModeChange", "Posted", "balance", "post", "reverse", "to_postpaid", "to_prepaid"]


def init_app(app: Flask) -> None:
    from service.ops.periodic import register_periodic
    from service.prepaid import jobs, models  # noqa: F401  (models registers the tables)

    register_periodic("prepaid.daily_deduction", 3600, jobs.daily_deduction, queue="bulk")
