"""Outages: inferred from stored power-fail/restore events through the correlation rules."""

from flask import Flask


def init_app(app: Flask) -> None:
    from service.outages import models  # noqa: F401  (registers the tables)
