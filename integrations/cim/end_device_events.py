"""IEC 61968-9 EndDeviceEvents, in any envelope a real sender uses -> CanonicalBatch.events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.canonical import CanonicalBatch, Reject
from integrations.cim.envelope import Header, read_envelope_tree
from integrations.cim.event_types import is_code_for
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
) -> EndDeviceEventsMessage:
    """Parse an EndDeviceEvents message; ParseError when the document or its envelope is unreadable."""
    header, payload = read_envelope_tree(data, NOUN, max_bytes=max_bytes, default_verb=default_verb)
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
        code = is_code_for(event_type) if event_type else None
        if code is None:
            batch.rejects.append(
                Reject(
                    loc, "EndDeviceEventType", f"unknown EndDeviceEventType {event_type!r}", meter, created
                )
            )
            continue
        occurred = iso_to_epoch_one(created)
        if occurred is None:
            batch.rejects.append(Reject(loc, "createdDateTime", f"unreadable timestamp {created!r}", meter))
            continue
        snapshot: dict[str, Any] = {}
        for detail in event.iter("EndDeviceEventDetails"):
            name, value = _text(detail, "name"), _text(detail, "value")
            if name and value is not None:
                try:
                    snapshot[name] = float(value)
                except ValueError:
                    snapshot[name] = value
        mrid = _text(event, "mRID")
        if mrid:
            snapshot["cim_mrid"] = mrid
        snapshot["cim_type"] = event_type
        events.add(loc, meter, code, occurred, None, snapshot)
    batch.events = events.build(batch.rejects, now_epoch() if now is None else now)
    return EndDeviceEventsMessage(header, batch)


def parse_end_device_events(
    data: bytes, *, now: int | None = None, max_bytes: int = DEFAULT_MAX_XML_BYTES
) -> CanonicalBatch:
    return read_end_device_events(data, now=now, max_bytes=max_bytes).batch
