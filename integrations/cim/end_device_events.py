"""IEC 61968-9 EndDeviceEvents, in any envelope a real sender uses -> CanonicalBatch.events."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from integrations.canonical import CanonicalBatch, Reject
from integrations.cim.envelope import Header, read_envelope_tree
from integrations.cim.event_types import EventTypeMap, load_mapping, unmapped_code
from integrations.cim.identity import USAGE_POINT_PREFIX, NamedObject
from integrations.parsing import DEFAULT_MAX_XML_BYTES, EventBuilder, iso_to_epoch_one, now_epoch

NOUN = "EndDeviceEvents"


def _text(element: Any, path: str) -> str | None:
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return str(found.text).strip()


def _named(element: Any | None) -> str | None:
    """The identity of an Assets or UsagePoint element (see integrations.cim.identity)."""
    if element is None:
        return None
    named = NamedObject()
    named.mrid = _text(element, "mRID")
    named.serial = _text(element, "serialNumber")
    for names in element.findall("Names"):
        named.start_name()
        named.set_name(_text(names, "name") or "")
        named.set_type(_text(names, "NameType/name") or "")
        named.end_name()
    return named.identity()


@dataclass
class EndDeviceEventsMessage:
    header: Header
    batch: CanonicalBatch


def read_end_device_events(
    data: bytes,
    *,
    now: int | None = None,
    max_bytes: int = DEFAULT_MAX_XML_BYTES,
    default_verb: str | None = None,
    mapping: EventTypeMap | None = None,
) -> EndDeviceEventsMessage:
    """Parse an EndDeviceEvents message; ParseError when the document or its envelope is unreadable.

    The verb shapes each event: `closed` sets its restoration (the event's `status/dateTime`,
    else the Header Timestamp); `canceled`/`deleted` mark it in the snapshot (`cim_status`), so
    the stored event is updated and its earlier state kept as a revision.
    """
    header, payload = read_envelope_tree(data, NOUN, max_bytes=max_bytes, default_verb=default_verb)
    mapping = mapping or load_mapping()
    batch = CanonicalBatch(source=f"cim:{header.source or 'unknown'}", message_id=header.message_id)
    events = EventBuilder()
    for i, event in enumerate(payload.findall("EndDeviceEvent")):
        loc = f"EndDeviceEvent[{i}]"
        meter = _named(event.find("Assets"))
        if not meter:
            point = _named(event.find("UsagePoint"))
            meter = f"{USAGE_POINT_PREFIX}{point}" if point else None
        created = _text(event, "createdDateTime")
        type_element = event.find("EndDeviceEventType")
        event_type = None if type_element is None else (type_element.get("ref") or type_element.get("mRID"))
        if not meter:
            batch.rejects.append(
                Reject(loc, "Assets", "no meter (Assets/mRID or Assets/Names/name) or UsagePoint")
            )
            continue
        if not event_type or not event_type.strip():
            batch.rejects.append(
                Reject(loc, "EndDeviceEventType", "EndDeviceEventType without a ref", meter, created)
            )
            continue
        event_type = event_type.strip()
        occurred = iso_to_epoch_one(created)
        if occurred is None:
            batch.rejects.append(Reject(loc, "createdDateTime", f"unreadable timestamp {created!r}", meter))
            continue
        snapshot = _snapshot(event)
        snapshot["cim_type"] = event_type
        code = mapping.code_for(event_type)
        if code is None:
            code = unmapped_code(event_type)
            snapshot["unmapped"] = True
        restored = None
        if header.action == "close":
            closed_at = _text(event, "status/dateTime") or header.timestamp
            restored = iso_to_epoch_one(closed_at)
            if restored is None:
                batch.rejects.append(
                    Reject(
                        loc,
                        "status/dateTime",
                        f"a closed event needs its closing time (status/dateTime or Header/Timestamp), got {closed_at!r}",
                        meter,
                        created,
                    )
                )
                continue
        elif header.action in ("cancel", "delete"):
            snapshot["cim_status"] = "cancelled" if header.action == "cancel" else "deleted"
        events.add(loc, meter, code, occurred, restored, snapshot)
    batch.events = events.build(batch.rejects, now_epoch() if now is None else now)
    return EndDeviceEventsMessage(header, batch)


def _snapshot(event: Any) -> dict[str, Any]:
    snapshot: dict[str, Any] = {}
    for detail in event.iter("EndDeviceEventDetails"):
        name, value = _text(detail, "name"), _text(detail, "value")
        if name and value is not None:
            try:
                number = float(value)
            except ValueError:
                number = None
            # JSON (and jsonb) has no NaN or Infinity: such values stay text.
            snapshot[name] = number if number is not None and math.isfinite(number) else value
    for field in ("mRID", "severity", "reason", "issuerID", "issuerTrackingID"):
        value = _text(event, field)
        if value:
            snapshot["cim_mrid" if field == "mRID" else f"cim_{field}"] = value
    status = _text(event, "status/value")
    if status:
        snapshot["cim_status"] = status
    return snapshot


def parse_end_device_events(
    data: bytes, *, now: int | None = None, max_bytes: int = DEFAULT_MAX_XML_BYTES
) -> CanonicalBatch:
    return read_end_device_events(data, now=now, max_bytes=max_bytes).batch
