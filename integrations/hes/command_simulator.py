"""A HES that takes commands on a loopback HTTP server, in both wire forms, for tests and benchmarks.

POST /commands (JSON) or /EndDeviceControls (CIM) is acknowledged at once; after `delay_seconds`
the simulator calls back with the outcome (success, `meter_offline`, `relay_fault`) and, on
success of a connect/disconnect, the IS 15959 relay event (302/301) — or stays silent. A
successful read (JSON form) carries the meter's kWh register (`registers`, `register_kwh`).
GET /commands/<id> answers pollers. Every body received is kept byte for byte.

`callback_batch` > 1 (JSON form): outcomes and relay events are posted as JSON lists of up to that
many items, each list once it is full or `callback_linger_seconds` after its first item, as head-end
systems that batch their notifications do.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from defusedxml.ElementTree import fromstring

from integrations.cim import end_device_controls as edc

OUTCOMES = ("success", "meter_offline", "relay_fault", "silence")
RELAY_EVENT = {"disconnect": 301, "connect": 302}
_ACTION_OF_CODE = {code: action for action, code in edc.CONTROL_TYPES.items()}


@dataclass
class Received:
    path: str
    body: bytes
    content_type: str
    command_id: str
    action: str
    meter: str


@dataclass
class HesCommandSimulator:
    callback_url: str | None = None
    callback_token: str | None = None
    delay_seconds: float = 0.0
    outcome: str = "success"
    outcomes: dict[str, str] = field(default_factory=dict)  # meter -> outcome, beside the default
    emit_events: bool = True
    received: list[Received] = field(default_factory=list)
    callbacks_sent: list[tuple[str, bytes]] = field(default_factory=list)
    callback_errors: list[str] = field(default_factory=list)
    state: dict[str, dict[str, Any]] = field(default_factory=dict)  # command id -> pollable status
    callback_batch: int = 1
    callback_linger_seconds: float = 0.05
    # A successful read answers the kWh register: per meter, else `register_kwh` (None: no value).
    registers: dict[str, float] = field(default_factory=dict)
    register_kwh: float | None = 1.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._server: ThreadingHTTPServer | None = None
        self._pending: list[dict[str, Any]] = []
        self._pending_since = 0.0
        self._flusher: threading.Thread | None = None

    # --- server -----------------------------------------------------------------------------
    def start(self) -> str:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer, kind = simulator.accept(
                    self.path, body, self.headers.get("Content-Type") or ""
                )
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def do_GET(self) -> None:
                command_id = urllib.parse.unquote(self.path.rsplit("/", 1)[-1])
                with simulator._lock:
                    known = simulator.state.get(command_id)
                answer = json.dumps(known or {"error": "unknown command"}).encode()
                self.send_response(200 if known else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self.wait_idle()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Join every callback under way (tests call this before looking at the database)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                threads = [t for t in self._threads if t.is_alive()]
                self._threads = threads
                flusher = self._flusher if self._flusher is not None and self._flusher.is_alive() else None
            if flusher is not None:
                threads.append(flusher)
            if not threads or time.monotonic() > deadline:
                return
            threads[0].join(max(0.0, deadline - time.monotonic()))

    # --- behaviour --------------------------------------------------------------------------
    def accept(self, path: str, body: bytes, content_type: str) -> tuple[int, bytes, str]:
        try:
            if path.rstrip("/").endswith("/EndDeviceControls"):
                command_id, action, meter, form = *self._read_cim(body), "cim"
            else:
                data = json.loads(body)
                command_id, action, meter, form = data["command_id"], data["action"], data["meter"], "json"
        except (ValueError, KeyError, TypeError) as exc:
            return 400, json.dumps({"error": f"unreadable command: {exc}"}).encode(), "application/json"
        with self._lock:
            duplicate = command_id in self.state
            self.received.append(Received(path, body, content_type, command_id, action, meter))
            if not duplicate:
                self.state[command_id] = {"command_id": command_id, "status": "pending"}
        if not duplicate:
            outcome = self.outcomes.get(meter, self.outcome)
            thread = threading.Thread(target=self._finish, args=(form, command_id, action, meter, outcome))
            with self._lock:
                self._threads.append(thread)
            thread.start()
        if form == "cim":
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            return (
                200,
                edc.response_message(command_id=command_id, ok=True, timestamp=stamp),
                "application/xml",
            )
        return 202, json.dumps({"command_id": command_id, "status": "accepted"}).encode(), "application/json"

    @staticmethod
    def _read_cim(body: bytes) -> tuple[str, str, str]:
        root = fromstring(body)
        ns = {"m": edc.MESSAGE_NS, "c": edc.EDC_NS}
        control = root.find("m:Payload/c:EndDeviceControls/c:EndDeviceControl", ns)
        if control is None:
            raise ValueError("no EndDeviceControl")
        command_id = control.findtext("c:mRID", namespaces=ns)
        code = control.find("c:EndDeviceControlType", ns)
        meter = control.findtext("c:EndDevices/c:mRID", namespaces=ns)
        if not command_id or code is None or not meter:
            raise ValueError("EndDeviceControl needs mRID, EndDeviceControlType and EndDevices/mRID")
        action = _ACTION_OF_CODE.get(code.get("ref") or "")
        if action is None:
            raise ValueError(f"unknown EndDeviceControlType {code.get('ref')!r}")
        return command_id, action, meter

    def _finish(self, form: str, command_id: str, action: str, meter: str, outcome: str) -> None:
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if outcome == "silence":
            return
        ok = outcome == "success"
        relay = None
        if ok and action in RELAY_EVENT:
            relay = "disconnected" if action == "disconnect" else "connected"
        with self._lock:
            self.state[command_id] = {
                "command_id": command_id, "status": "success" if ok else "failed",
                "reason": None if ok else outcome, "relay": relay,
            }  # fmt: skip
            kwh = self.registers.get(meter, self.register_kwh)
            if ok and action == "read" and kwh is not None:
                self.state[command_id]["reading"] = {"kwh": kwh}
        if not self.callback_url:
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if form == "cim":
            reply = edc.response_message(
                command_id=command_id, ok=ok, timestamp=stamp, error_code=outcome, error_text=outcome
            )
            self._post(reply, "application/xml")
            if relay and self.emit_events:
                event = edc.relay_events_message(
                    command_id=command_id, meter=meter, is_code=RELAY_EVENT[action], created=stamp
                )
                self._post(event, "application/xml")
            return
        items: list[dict[str, Any]] = [self.state[command_id]]
        if relay and self.emit_events:
            items.append(
                {
                    "event": {
                        "command_id": command_id,
                        "meter": meter,
                        "code": RELAY_EVENT[action],
                        "at": stamp,
                    }
                }
            )
        if self.callback_batch > 1:
            self._queue_callback(items)
            return
        for item in items:
            self._post(json.dumps(item).encode(), "application/json")

    def _queue_callback(self, items: list[dict[str, Any]]) -> None:
        with self._lock:
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.extend(items)
            if self._flusher is None or not self._flusher.is_alive():
                self._flusher = threading.Thread(target=self._flush_loop, daemon=True)
                self._flusher.start()

    def _flush_loop(self) -> None:
        """Post the pending items as lists until none is left (then the thread ends)."""
        while True:
            with self._lock:
                if not self._pending:
                    self._flusher = None
                    return
                full = len(self._pending) >= self.callback_batch
                waited = time.monotonic() - self._pending_since
                if full or waited >= self.callback_linger_seconds:
                    chunk = self._pending[: self.callback_batch]
                    del self._pending[: self.callback_batch]
                    self._pending_since = time.monotonic()
                else:
                    chunk = []
            if chunk:
                self._post(json.dumps(chunk).encode(), "application/json")
            else:
                time.sleep(max(0.0, self.callback_linger_seconds - waited))

    def _post(self, body: bytes, content_type: str) -> None:
        assert self.callback_url is not None
        headers = {"Content-Type": content_type}
        if self.callback_token:
            headers["Authorization"] = f"Bearer {self.callback_token}"
        request = urllib.request.Request(self.callback_url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                answer.read()
            with self._lock:
                self.callbacks_sent.append((content_type, body))
        except OSError as exc:
            with self._lock:
                self.callback_errors.append(f"{type(exc).__name__}: {exc}")
