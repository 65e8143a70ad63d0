"""Audit log of every state-changing action by a person or a system."""

from flask import Flask


def init_app(app: Flask) -> None:
    from service.audit import models  # noqa: F401  (registers the table)
