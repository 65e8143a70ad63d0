"""Meter assets from purchase to scrap (issue 12): the status transition table (`lifecycle`), the
asset rows linked to master-data meters and their status history (`moves`). POs, URJAS import
and replacements are still to be built."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from service.assets import models  # noqa: F401  (registers the tables)
