"""Consumers as people see them: the customer-care 360 page, the consumer app API and pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from service.consumers import (  # noqa: F401  (models registers the tables)
        app_api,
        app_limits,
        app_views,
        models,
        views,
    )
    from service.extensions import api, csrf

    app.extensions[app_limits.EXTENSION_KEY] = app_limits.Limits()
    csrf.exempt(app_api.blp)
    api.register_blueprint(app_api.blp)
    app.register_blueprint(views.bp)
    app.register_blueprint(app_views.bp)
