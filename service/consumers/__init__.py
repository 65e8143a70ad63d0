"""Consumers as people see them: the customer-care 360 page, the consumer app API and pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from service.consumers import views

    app.register_blueprint(views.bp)
