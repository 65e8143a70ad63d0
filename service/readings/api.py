"""Read API of the measurement store (filled in below)."""

from __future__ import annotations

from flask_smorest import Blueprint

bp = Blueprint("readings", __name__, url_prefix="/api/v1/meters", description="Meter readings")
