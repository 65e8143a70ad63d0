"""Energy audit and AT&C loss: collection data from billing (POST /api/v1/billing/collections)
and the AT&C computation; the feeder/DT audit itself reads `service.aggregates`."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from service.energy_audit import api as energy_api
    from service.energy_audit import models  # noqa: F401  (registers the table)
    from service.extensions import api, csrf

    csrf.exempt(energy_api.bp)
    api.register_blueprint(energy_api.bp)
