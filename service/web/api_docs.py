"""Swagger UI assets served from the pinned `swagger-ui-bundle` package, so /api/docs needs no internet."""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory

bp = Blueprint("api_docs_assets", __name__)


@bp.get("/static/swagger-ui/<path:filename>")
def swagger_ui_asset(filename: str) -> Response:
    import swagger_ui_bundle

    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86_400)
