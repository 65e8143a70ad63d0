"""Meter assets from purchase to scrap (issue 12): the status transition table (`lifecycle`), the
asset rows linked to master-data meters and their status history (`moves`), scalar -> scalar
replacements reported by billing and URJAS (`replacement`, `intake`, `api`)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from service.assets import api as assets_api
    from service.assets import models  # noqa: F401  (registers the tables)
    from service.extensions import api, csrf

    csrf.exempt(assets_api.bp)
    api.register_blueprint(assets_api.bp)
