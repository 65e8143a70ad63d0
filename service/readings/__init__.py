"""readings area (filled in by its issue)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from service.readings import models  # noqa: F401  (registers the tables)
