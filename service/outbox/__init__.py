"""Transactional outbox drained by RQ workers (DESIGN: nothing accepted is lost)."""

from __future__ import annotations

from flask import Flask

from service.outbox.models import OutboxItem

__all__ = ["OutboxItem", "init_app"]


def init_app(app: Flask) -> None:
    from service.outbox import models  # noqa: F401
