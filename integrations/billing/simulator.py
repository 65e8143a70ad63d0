"""A stand-in billing server on 127.0.0.1: records signed JSON POSTs; can fail the next N calls
or lose the answers to the next N postings it applied.

Checks the signature and returns the first answer again for a repeated Idempotency-Key, as the
real system does. Usage: `with BillingSimulator(secret) as sim: ... sim.url ... sim.requests`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from integrations.billing.client import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


@dataclass
class RecordedRequest:
    path: str
    body: dict[str, Any]
    idempotency_key: str
    signature_ok: bool
    headers: dict[str, str] = field(default_factory=dict)


class BillingSimulator:
    def __init__(self, secret: str, delay_seconds: float = 0.0) -> None:
        self.secret = secret
        self.delay_seconds = delay_seconds
        self.requests: list[RecordedRequest] = []
        self.answers: dict[str, dict[str, Any]] = {}
        self._fail_next = 0
        self._fail_status = 503
        self._lose_next = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # control ------------------------------------------------------------------------------
    def fail_next(self, calls: int, status: int = 503) -> None:
        with self._lock:
            self._fail_next, self._fail_status = calls, status

    def lose_next_answers(self, calls: int) -> None:
        """Billing applies the next `calls` postings, then its answer is lost (a 504 from the
        gateway in front of it): the caller cannot tell, retries, and must send the same key."""
        with self._lock:
            self._lose_next = calls

    @property
    def url(self) -> str:
        assert self._server is not None, "start the simulator first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> BillingSimulator:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                simulator._handle(self, raw)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="billing-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> BillingSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # protocol -----------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        if self.delay_seconds:
            threading.Event().wait(self.delay_seconds)
        timestamp = handler.headers.get(TIMESTAMP_HEADER, "")
        signature = handler.headers.get(SIGNATURE_HEADER, "")
        key = handler.headers.get(IDEMPOTENCY_HEADER, "")
        signature_ok = bool(timestamp and signature) and verify(self.secret, timestamp, raw, signature)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_unparsable": raw[:200].decode("utf-8", "replace")}
        with self._lock:
            self.requests.append(
                RecordedRequest(handler.path, body, key, signature_ok, dict(handler.headers))
            )
            failing = self._fail_next > 0
            if failing:
                self._fail_next -= 1
            previous = self.answers.get(key) if key else None
        if failing:
            return self._send(handler, self._fail_status, {"error": "simulated_failure"})
        if not signature_ok:
            return self._send(handler, 401, {"error": "invalid_signature"})
        if not key:
            return self._send(handler, 400, {"error": "missing_idempotency_key"})
        if previous is not None:
            return self._send(handler, 200, previous)
        answer = {
            "status": "accepted",
            "billing_reference": f"NGB-{len(self.answers) + 1:06d}",
            "path": handler.path,
        }
        with self._lock:
            self.answers[key] = answer
            lost = self._lose_next > 0
            if lost:
                self._lose_next -= 1
        if lost:
            return self._send(handler, 504, {"error": "gateway_timeout"})
        return self._send(handler, 200, answer)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def accepted(self) -> list[RecordedRequest]:
        """Requests that billing accepted (signature good, not a simulated failure)."""
        return [r for r in self.requests if r.signature_ok and r.idempotency_key in self.answers]
