"""Prepayment: tariffs priced from `rules/tariffs/`, an append-only ledger per consumer with a
cached balance, migration between postpaid and prepaid, daily deduction after VEE, top-up by
signed webhook, low-balance alerts and automatic disconnection within the safety rules."""

from __future__ import annotations

from flask import Flask

from service.prepaid.ledger import LedgerError, Posted, balance, post, reverse
from service.prepaid.modes import ModeChange, to_postpaid, to_prepaid

__all__ = ["LedgerError", "ModeChange", "Posted", "balance", "post", "reverse", "to_postpaid", "to_prepaid"]


def init_app(app: Flask) -> None:
    from service.prepaid import models  # noqa: F401  (registers the tables)
