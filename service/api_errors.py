"""One JSON error shape for the whole API: {"error": code, "message": text, ...details}."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Flask, jsonify
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

RETRY_AFTER_SECONDS = 30


class ApiError(HTTPException):
    def __init__(self, status: int, error: str, message: str, **details: Any) -> None:
        super().__init__(description=message)
        self.code = status
        self.error = error
        self.details = details
        # Retry-After on 429 and 503, so a client knows when to come back.
        retry = details.get("retry_after_seconds")
        self.extra_headers = {"Retry-After": str(retry)} if retry is not None else {}

    def get_response(self, environ: Any = None, scope: Any = None) -> Any:
        response = jsonify({"error": self.error, "message": self.description, **self.details})
        response.status_code = self.code or 500
        response.headers.update(self.extra_headers)
        return response


def fail(status: int, error: str, message: str, **details: Any) -> NoReturn:
    raise ApiError(status, error, message, **details)


def init_app(app: Flask) -> None:
    """JSON bodies for errors under /api/ that Werkzeug or flask-smorest raise."""
    from flask import request

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        if isinstance(exc, ApiError):
            return exc.get_response()
        if not (request.path.startswith("/api/") or request.path == "/healthz"):
            if exc.code is None or exc.code < 400:  # redirects raised as exceptions
                return exc
            from service.web.views import error_page

            return error_page(exc)
        body: dict[str, Any] = {
            "error": (exc.name or "error").lower().replace(" ", "_"),
            "message": exc.description,
        }
        data = getattr(exc, "data", None)  # flask-smorest / webargs validation messages
        if isinstance(data, dict) and "messages" in data:
            body["errors"] = data["messages"]
        response = jsonify(body)
        response.status_code = exc.code or 500
        return response

    @app.errorhandler(RecursionError)
    def _too_deep(exc: RecursionError) -> Any:
        # Parsers of request bodies (json, webargs) recurse per nesting level: a body of
        # 100,000 brackets is the sender's fault, answered as such, never a 500.
        response = jsonify(
            {"error": "too_deeply_nested", "message": "The request body is nested too deeply."}
        )
        response.status_code = 400
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    def _database_unavailable(exc: Exception) -> Any:
        # The database is down or restarting: nothing was committed, the client may retry.
        app.logger.warning("database unavailable: %s", exc)
        body = {"error": "database_unavailable", "message": "The database is unavailable; retry shortly."}
        if request.path.startswith("/api/"):
            response = jsonify(body)
        else:
            response = app.response_class(body["message"], mimetype="text/plain")
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
