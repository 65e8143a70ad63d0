"""IEC 61968-9 EndDeviceEvents inside the message envelope -> CanonicalBatch.events (IS 15959 codes)."""

from __future__ import annotations

from typing import Any

from integrations.canonical import CanonicalBatch, ParseError, Reject
from integrations.cim.envelope import HEADER_FIELDS, check_header
from integrations.cim.event_types import is_code_for
from integrations.parsing import DEFAULT_MAX_XML_BYTES, EventBuilder, iso_to_epoch_one, now_epoch, parse_tree


def _text(element: Any, path: str) -> str | None:
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return str(found.text).strip()


def parse_end_device_events(
    data: bytes, *, now: int | None = None, max_bytes: int = DEFAULT_MAX_XML_BYTES
) -> CanonicalBatch:
    """Parse an EndDeviceEvents message; ParseError when the document or its envelope is unreadable."""
    root = parse_tree(data, max_bytes)
    header_element = root.find("Header")
    fields = {}
    if header_element is not None:
        fields = {
            child.tag: (child.text or "").strip() for child in header_element if child.tag in HEADER_FIELDS
        }
    header = check_header(root.tag, fields, "EndDeviceEvents")
    payload = root.find("Payload")
    if payload is None:
        raise ParseError("the message has no Payload")
    batch = CanonicalBatch(source=f"cim:{header.source or 'unknown'}", message_id=header.message_id)
    events = EventBuilder()
    for i, event in enumerate(payload.iter("EndDeviceEvent")):
        loc = f"EndDeviceEvent[{i}]"
        meter = _text(event, "Assets/Names/name") or _text(event, "Assets/mRID")
        created = _text(event, "createdDateTime")
        type_element = event.find("EndDeviceEventType")
        event_type = None if type_element is None else (type_element.get("ref") or type_element.get("mRID"))
        if not meter:
            batch.rejects.append(Reject(loc, "Assets", "no meter (Assets/mRID or Assets/Names/name)"))
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
    return batch
