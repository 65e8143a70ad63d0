"""What a HES callback says, in either wire form: command outcomes and relay events, by command id.

JSON: {"command_id", "status": "success"|"failed", "reason"?, "relay"?} or a list of them, or
{"event": {"command_id"?, "meter", "code": 301|302, "at"}}. CIM: an EndDeviceControls
ResponseMessage / created EventMessage, or relay EndDeviceEvents (IS 15959 301/302 as CIM types).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from integrations.canonical import ParseError
from integrations.cim import end_device_controls
from integrations.cim.event_types import is_code_for

RELAY_STATES = {301: "disconnected", 302: "connected"}
MAX_JSON_ITEMS = 10_000


@dataclass(frozen=True)
class Outcome:
    command_id: str | None
    kind: str  # "reply" | "relay_event"
    ok: bool
    reason: str | None = None
    meter: str | None = None
    relay: str | None = None  # "connected" | "disconnected" when known
    at: str | None = None  # a relay event's time as the HES sent it (ISO 8601)
    register_kwh: float | None = None  # an on-demand read's kWh register, when the reply carries it


def read_callback(body: bytes, content_type: str) -> list[Outcome]:
    """Every outcome in a callback body; ParseError names what is unreadable."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/json" or (not kind and body.lstrip()[:1] in (b"{", b"[")):
        return _json_outcomes(body)
    if kind in ("application/xml", "text/xml", "application/soap+xml") or body.lstrip()[:1] == b"<":
        return _cim_outcomes(body)
    raise ParseError(f"unsupported Content-Type {content_type!r} (send application/json or application/xml)")


def _cim_outcomes(body: bytes) -> list[Outcome]:
    if end_device_controls.noun_of(body) == "EndDeviceEvents":
        outcomes = []
        for event in end_device_controls.read_relay_events(body):
            code = is_code_for(event.event_type)
            if code not in RELAY_STATES:
                raise ParseError(f"EndDeviceEventType {event.event_type!r} is not a relay event")
            outcomes.append(
                Outcome(
                    event.command_id,
                    "relay_event",
                    True,
                    None,
                    event.meter,
                    RELAY_STATES[code],
                    event.created,
                )
            )
        return outcomes
    return [
        Outcome(r.command_id, "reply", r.ok, None if r.ok else (r.error_code or r.error_text or "failed"))
        for r in end_device_controls.read_control_replies(body)
    ]


def _json_outcomes(body: bytes) -> list[Outcome]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"invalid JSON: {exc}") from None
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_JSON_ITEMS:
        raise ParseError(f"at most {MAX_JSON_ITEMS} outcomes per callback")
    return [_json_item(i, item) for i, item in enumerate(items)]


def _json_item(i: int, item: Any) -> Outcome:
    if not isinstance(item, dict):
        raise ParseError(f"[{i}]: expected an object")
    event = item.get("event")
    if isinstance(event, dict):
        code, meter = event.get("code"), event.get("meter")
        if code not in RELAY_STATES or not isinstance(meter, str):
            raise ParseError(f"[{i}].event: needs meter and code 301 or 302")
        command_id, at = event.get("command_id"), event.get("at")
        return Outcome(
            command_id if isinstance(command_id, str) else None, "relay_event", True, None, meter,
            RELAY_STATES[code], at if isinstance(at, str) else None,
        )  # fmt: skip
    command_id, status = item.get("command_id"), item.get("status")
    if not isinstance(command_id, str) or not command_id:
        raise ParseError(f"[{i}].command_id: required")
    if status not in ("success", "succeeded", "failed", "failure"):
        raise ParseError(f"[{i}].status: expected success or failed, got {status!r}")
    ok = status in ("success", "succeeded")
    reason = item.get("reason")
    relay = item.get("relay")
    return Outcome(
        command_id, "reply", ok, None if ok else str(reason or "failed"), None,
        relay if relay in ("connected", "disconnected") else None, None, _register_kwh(i, item.get("reading")),
    )  # fmt: skip


def _register_kwh(i: int, reading: Any) -> float | None:
    """`"reading": {"kwh": 1234.5}` of a read's reply (absent: None)."""
    if reading is None:
        return None
    kwh = reading.get("kwh") if isinstance(reading, dict) else None
    if isinstance(kwh, bool) or not isinstance(kwh, int | float) or not 0 <= kwh < 1e12:
        raise ParseError(f"[{i}].reading.kwh: the kWh register as a number >= 0, got {kwh!r}")
    return float(kwh)
