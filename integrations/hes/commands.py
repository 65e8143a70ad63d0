"""HES commands: the `HesClient` port (connect, disconnect, on-demand read, relay-status query) and
its HTTP adapter in two wire forms, JSON/REST and IEC 61968-9 EndDeviceControls.

Every command carries our command id; the HES dedupes on it, so sending the same command twice is
safe. The adapter returns the exact bytes it sent and the HES's synchronous answer.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from integrations.cim import end_device_controls

ACTIONS = ("connect", "disconnect", "read", "relay_status")
WIRE_FORMS = ("json", "cim")


@dataclass(frozen=True)
class Command:
    command_id: str
    action: str  # one of ACTIONS
    meter: str  # the meter's serial number (its mRID at the HES)


@dataclass(frozen=True)
class Sent:
    """One delivery: the message as sent, the HES's HTTP status and body (or the transport error)."""

    command_id: str
    message: bytes
    content_type: str
    http_status: int | None
    answer: bytes
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300


class HesClient(Protocol):
    def connect(self, meter: str, command_id: str) -> Sent: ...

    def disconnect(self, meter: str, command_id: str) -> Sent: ...

    def read(self, meter: str, command_id: str) -> Sent: ...

    def relay_status(self, meter: str, command_id: str) -> Sent: ...

    def send(self, command: Command) -> Sent: ...

    def resend(self, command_id: str, message: bytes, content_type: str) -> Sent: ...

    def poll(self, command_id: str) -> dict[str, Any] | None: ...


def json_message(command: Command, callback_url: str | None) -> bytes:
    body: dict[str, Any] = {
        "command_id": command.command_id,
        "action": command.action,
        "meter": command.meter,
    }
    if callback_url:
        body["callback_url"] = callback_url
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


@dataclass
class HttpHesClient:
    """One HES over HTTP. `wire_form` "json" posts to <base>/commands, "cim" to <base>/EndDeviceControls."""

    base_url: str
    wire_form: str
    callback_url: str | None = None
    token: str | None = None
    timeout_seconds: float = 10.0
    control_types: dict[str, str] | None = None
    clock: Callable[[], str] | None = None  # ISO timestamp for the CIM Header

    def __post_init__(self) -> None:
        if self.wire_form not in WIRE_FORMS:
            raise ValueError(f"wire_form must be one of {WIRE_FORMS}, got {self.wire_form!r}")
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"a HES base URL must be http(s), got {self.base_url!r}")

    def connect(self, meter: str, command_id: str) -> Sent:
        return self.send(Command(command_id, "connect", meter))

    def disconnect(self, meter: str, command_id: str) -> Sent:
        return self.send(Command(command_id, "disconnect", meter))

    def read(self, meter: str, command_id: str) -> Sent:
        return self.send(Command(command_id, "read", meter))

    def relay_status(self, meter: str, command_id: str) -> Sent:
        return self.send(Command(command_id, "relay_status", meter))

    def encode(self, command: Command) -> tuple[bytes, str, str]:
        """(message, content type, URL) of a command in this HES's wire form."""
        if command.action not in ACTIONS:
            raise ValueError(f"unknown action {command.action!r}")
        base = self.base_url.rstrip("/")
        if self.wire_form == "json":
            return json_message(command, self.callback_url), "application/json", f"{base}/commands"
        stamp = self.clock() if self.clock else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        message = end_device_controls.request_message(
            command_id=command.command_id,
            action=command.action,
            meter=command.meter,
            timestamp=stamp,
            reply_address=self.callback_url,
            control_types=self.control_types,
        )
        return message, "application/xml", f"{base}/EndDeviceControls"

    def send(self, command: Command) -> Sent:
        message, content_type, url = self.encode(command)
        return self.deliver(command.command_id, message, content_type, url)

    def resend(self, command_id: str, message: bytes, content_type: str) -> Sent:
        """Post the stored bytes again (same command id: the HES dedupes)."""
        path = "commands" if self.wire_form == "json" else "EndDeviceControls"
        return self.deliver(command_id, message, content_type, f"{self.base_url.rstrip('/')}/{path}")

    def deliver(self, command_id: str, message: bytes, content_type: str, url: str) -> Sent:
        """Post exactly `message` (a retry re-sends the stored bytes)."""
        headers = {"Content-Type": content_type, "Idempotency-Key": command_id}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=message, headers=headers, method="POST")  # noqa: S310 - scheme checked
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as answer:  # noqa: S310
                return Sent(command_id, message, content_type, answer.status, answer.read(65536))
        except urllib.error.HTTPError as exc:
            return Sent(command_id, message, content_type, exc.code, exc.read(65536), f"HTTP {exc.code}")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            return Sent(command_id, message, content_type, None, b"", f"{type(exc).__name__}: {exc}")

    def poll(self, command_id: str) -> dict[str, Any] | None:
        """The HES's view of a command (JSON/REST HES without callbacks); None while unknown."""
        url = f"{self.base_url.rstrip('/')}/commands/{urllib.parse.quote(command_id)}"
        request = urllib.request.Request(url, method="GET")  # noqa: S310 - scheme checked
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as answer:  # noqa: S310
                data = json.loads(answer.read(65536))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
        return data if isinstance(data, dict) else None


class Pacer:
    """At most `per_second` sends per second to one HES (the HES's published limit).

    `clock` and `sleep` are injected so tests and benchmarks control time.
    """

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self.clock, self.sleep = clock, sleep
        self.next_at: float | None = None
        self.waited_seconds = 0.0

    def wait(self) -> None:
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            self.waited_seconds += self.next_at - now
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval
