"""Security headers on every response: CSP, no sniffing, no framing, referrer, HSTS behind HTTPS,
and no caching of anything but static assets (pages and API answers carry personal data)."""

from __future__ import annotations

from flask import Flask, Response, request

# Scripts only from this site (the reports' plotly.js is served locally); inline style
# attributes are used by a few templates and by plotly's charts.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    " font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self';"
    " frame-ancestors 'none'"
)
# Swagger UI's page starts the bundle with an inline script (flask-smorest's template); it shows
# the API description only, no personal data.
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
HSTS = "max-age=31536000; includeSubDomains"
CACHEABLE_PREFIXES = ("/static/",)


def init_app(app: Flask) -> None:
    secure_deployment = bool(app.config.get("SESSION_COOKIE_SECURE"))

    @app.after_request
    def _security_headers(response: Response) -> Response:
        docs = request.path == app.config.get("OPENAPI_URL_PREFIX", "/api") + "/docs"
        response.headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure or secure_deployment:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if not request.path.startswith(CACHEABLE_PREFIXES) and "/static/" not in request.path:
            response.headers["Cache-Control"] = "no-store"
        return response
