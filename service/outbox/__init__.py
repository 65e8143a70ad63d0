"""Transactional outbox drained by RQ workers (DESIGN: nothing accepted is lost)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from service.outbox import models  # noqa: F401
