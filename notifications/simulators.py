"""Stand-in servers that speak the providers' protocols, for tests, the benchmark and the demo.

Twilio Messages API (2010-04-01), FCM HTTP v1 and a DLT SMS gateway, on 127.0.0.1 (port 0 =
any free port), standard library only. Each records what it accepted and can be told to be
down (503), to fail the next N requests, or to reject given numbers/tokens the way the real
service does.
"""

from __future__ import annotations

import base64
import itertools
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class StandIn:
    """A threaded HTTP server; subclasses answer `handle(method, path, headers, body)`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down = False
        self.fail_next: list[int] = []  # statuses to answer, one per request, before normal service
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with outer.lock:
                    outer.requests += 1
                    forced = outer.fail_next.pop(0) if outer.fail_next else (503 if outer.down else None)
                if forced is not None:
                    status, reply = forced, outer.error_body(forced)
                else:
                    status, reply = outer.handle(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        raise NotImplementedError

    def error_body(self, status: int) -> Any:
        return {"message": "Service Unavailable", "status": status}


class TwilioStandIn(StandIn):
    """POST /2010-04-01/Accounts/<sid>/Messages.json with HTTP Basic auth (sid:token)."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.invalid_numbers: set[str] = set()  # answered with error 21211
        self.messages: list[dict[str, str]] = []

    def error_body(self, status: int) -> Any:
        return {"code": 20500 if status == 500 else 20503, "message": "Service unavailable", "status": status}

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        expected = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        if urlsplit(path).path != expected:
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        auth = headers.get("authorization", "")
        good = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if not secrets.compare_digest(auth, good):
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        to = form.get("To", "")
        if to in self.invalid_numbers or not to.startswith("+") or not to[1:].isdigit():
            return 400, {
                "code": 21211,
                "message": f"The 'To' number {to} is not a valid phone number.",
                "more_info": "https://www.twilio.com/docs/errors/21211",
                "status": 400,
            }
        sid = "SM" + secrets.token_hex(16)
        with self.lock:
            self.messages.append({"sid": sid, **form})
        return 201, {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "uri": f"{expected[:-5]}/{sid}.json",
        }


def _fcm_error(status: int, grpc_status: str, message: str, fcm_code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message, "status": grpc_status}
    if fcm_code:
        error["details"] = [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}
        ]
    return {"error": error}


class FcmStandIn(StandIn):
    """POST /v1/projects/<project>/messages:send with a Bearer access token."""

    def __init__(self, project_id: str, access_token: str) -> None:
        super().__init__()
        self.project_id, self.access_token = project_id, access_token
        self.unregistered_tokens: set[str] = set()
        self.invalid_tokens: set[str] = set()
        self.messages: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    @property
    def send_url(self) -> str:
        return f"{self.url}/v1/projects/{self.project_id}/messages:send"

    def error_body(self, status: int) -> Any:
        return _fcm_error(
            status, "UNAVAILABLE" if status == 503 else "INTERNAL", "The service is currently unavailable."
        )

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if urlsplit(path).path != f"/v1/projects/{self.project_id}/messages:send":
            return 404, _fcm_error(404, "NOT_FOUND", "Not found")
        if headers.get("authorization") != f"Bearer {self.access_token}":
            return 401, _fcm_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        try:
            message = json.loads(body)["message"]
        except (ValueError, KeyError, TypeError):
            return 400, _fcm_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        token = message.get("token") or message.get("fid") or ""
        if token in self.unregistered_tokens:
            return 404, _fcm_error(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED")
        if token in self.invalid_tokens or len(token) < 20:
            return 400, _fcm_error(
                400,
                "INVALID_ARGUMENT",
                "The registration token is not a valid FCM registration token",
                "INVALID_ARGUMENT",
            )
        name = f"projects/{self.project_id}/messages/{next(self._ids)}"
        with self.lock:
            self.messages.append({"name": name, **message})
        return 200, {"name": name}


class DltGatewayStandIn(StandIn):
    """A DLT SMS gateway: POST /sms JSON; registered templates only."""

    def __init__(self, sender_id: str, templates: set[str]) -> None:
        super().__init__()
        self.sender_id, self.templates = sender_id, templates
        self.messages: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def error_body(self, status: int) -> Any:
        return {"error": "gateway unavailable"}

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        try:
            data = json.loads(body)
        except ValueError:
            return 400, {"error": "invalid JSON"}
        if data.get("sender") != self.sender_id:
            return 400, {"error": f"sender id {data.get('sender')!r} not registered"}
        if data.get("dlt_template_id") not in self.templates:
            return 400, {"error": f"DLT template {data.get('dlt_template_id')!r} not registered"}
        message_id = f"dlt-{next(self._ids)}"
        with self.lock:
            self.messages.append({"message_id": message_id, **data})
        return 200, {"message_id": message_id, "status": "submitted"}
