"""Audit log of every state-changing action by a person or a system."""

from flask import Flask

from service.audit.models import AuditEntry

__all__ = ["AuditEntry", "init_app"]


def init_app(app: Flask) -> None:
    from service.audit import models  # noqa: F401  (registers the table)
