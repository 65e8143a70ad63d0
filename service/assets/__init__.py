"""Meter assets from purchase to scrap (issue 12): the status transition table (`lifecycle`), the
asset rows linked to master-data meters and their status history (`moves`), scalar -> scalar
replacements reported by billing and URJAS (`replacement`, `intake`, `api`)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from service.assets import api as assets_api
    from service.assets import (
        models,  # noqa: F401  (registers the tables)
        smart,
    )
    from service.commands.replies import FINISHED_LISTENERS
    from service.extensions import api, csrf
    from service.processes.operations import register_operation
    from service.processes.webhooks import register_handler

    register_operation("replacement.commission", smart.check_params, backoff_seconds=1.0, max_attempts=3,
                       write=smart.write_commission)  # fmt: skip
    register_operation("replacement.switch", smart.check_params, backoff_seconds=1.0, max_attempts=3,
                       write=smart.write_switch)  # fmt: skip
    register_handler("assets.replacement_decision", smart.decision_handler)
    if smart.on_commands_finished not in FINISHED_LISTENERS:
        FINISHED_LISTENERS.append(smart.on_commands_finished)
    from service.assets import views
    from service.web.nav import register_nav

    app.register_blueprint(views.bp)
    register_nav("Assets", "assets.search", order=13)
    csrf.exempt(assets_api.bp)
    api.register_blueprint(assets_api.bp)
