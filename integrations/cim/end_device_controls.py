"""IEC 61968-9 EndDeviceControls: the command RequestMessage (verb `create`) and the HES's replies.

Requests keep the schema's element order (Header, Payload; EndDeviceControl's mRID, issuerTrackingID,
reason, EndDeviceControlType, EndDevices). Replies — a ResponseMessage, or a `created`
EventMessage — and relay EndDeviceEvents are read through defusedxml with every namespace checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import TreeBuilder
from xml.sax.saxutils import escape

from integrations.canonical import ParseError
from integrations.cim.envelope import MESSAGE_NS, accepted_namespace
from integrations.cim.event_types import load_mapping
from integrations.parsing import expat_parser, local_name, run_expat

NOUN = "EndDeviceControls"
EDC_NS = "http://iec.ch/TC57/2011/EndDeviceControls#"
EDE_NS = "http://iec.ch/TC57/2011/EndDeviceEvents#"
# EndDeviceControlType = type.domain.subDomain.eventOrAction (61968-9 Annex E): electric meter (3),
# RCD switch (31). Close = connect, open = disconnect, as deployed HES/MDM pairs code them.
# A HES that codes read and relay-status differently names its own codes in its master data.
CONTROL_TYPES = {
    "connect": "3.31.0.18",
    "disconnect": "3.31.0.23",
    "read": "3.8.0.215",
    "relay_status": "3.31.0.215",
}
METER_NAME_TYPE = "MeterSerialNumber"
MAX_REPLY_BYTES = 1024 * 1024


def request_message(
    *,
    command_id: str,
    action: str,
    meter: str,
    timestamp: str,
    source: str = "CMDMS",
    reply_address: str | None = None,
    reason: str | None = None,
    control_types: dict[str, str] | None = None,
) -> bytes:
    """The `create EndDeviceControls` RequestMessage for one command (its id is MessageID and mRID)."""
    codes = {**CONTROL_TYPES, **(control_types or {})}  # a HES names only the codes that differ
    if action not in codes:
        raise ValueError(f"no EndDeviceControlType for action {action!r}")
    cid, meter_text = escape(command_id), escape(meter)
    reply = f"<ReplyAddress>{escape(reply_address)}</ReplyAddress>" if reply_address else ""
    asynchronous = "<AsyncReplyFlag>true</AsyncReplyFlag>" if reply_address else ""
    header = (
        f"<Header><Verb>create</Verb><Noun>{NOUN}</Noun><Timestamp>{escape(timestamp)}</Timestamp>"
        f"<Source>{escape(source)}</Source>{asynchronous}{reply}<AckRequired>true</AckRequired>"
        f"<MessageID>{cid}</MessageID><CorrelationID>{cid}</CorrelationID></Header>"
    )
    control = (
        f"<EndDeviceControl><mRID>{cid}</mRID><issuerTrackingID>{cid}</issuerTrackingID>"
        + (f"<reason>{escape(reason)}</reason>" if reason else "")
        + f'<EndDeviceControlType ref="{escape(codes[action])}"/>'
        f"<EndDevices><mRID>{meter_text}</mRID><Names><name>{meter_text}</name>"
        f"<NameType><name>{METER_NAME_TYPE}</name></NameType></Names></EndDevices></EndDeviceControl>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<RequestMessage xmlns="{MESSAGE_NS}">{header}'
        f'<Payload><EndDeviceControls xmlns="{EDC_NS}">{control}</EndDeviceControls></Payload>'
        "</RequestMessage>"
    ).encode()


def response_message(
    *,
    command_id: str,
    ok: bool,
    timestamp: str,
    error_code: str = "",
    error_text: str = "",
    verb: str = "reply",
) -> bytes:
    """A ResponseMessage about one command (written by the simulator; the shape real HES send)."""
    cid = escape(command_id)
    error = (
        ""
        if ok
        else f"<Error><code>{escape(error_code)}</code><details>{escape(error_text)}</details></Error>"
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ResponseMessage xmlns="{MESSAGE_NS}">'
        f"<Header><Verb>{verb}</Verb><Noun>{NOUN}</Noun><Timestamp>{escape(timestamp)}</Timestamp>"
        f"<Source>HES</Source><CorrelationID>{cid}</CorrelationID></Header>"
        f"<Reply><Result>{'OK' if ok else 'FAILED'}</Result>{error}</Reply>"
        f'<Payload><EndDeviceControls xmlns="{EDC_NS}"><EndDeviceControl><mRID>{cid}</mRID>'
        f"<issuerTrackingID>{cid}</issuerTrackingID></EndDeviceControl></EndDeviceControls></Payload>"
        "</ResponseMessage>"
    ).encode()


def relay_events_message(*, command_id: str, meter: str, is_code: int, created: str) -> bytes:
    """A relay EndDeviceEvents EventMessage (IS 15959 301/302 as CIM types), tracking the command."""
    cid, meter_text = escape(command_id), escape(meter)
    event = (
        f"<EndDeviceEvent><mRID>{cid}-{is_code}</mRID><createdDateTime>{escape(created)}</createdDateTime>"
        f"<issuerTrackingID>{cid}</issuerTrackingID><Assets><mRID>{meter_text}</mRID></Assets>"
        f'<EndDeviceEventType ref="{load_mapping().to_cim[is_code]}"/></EndDeviceEvent>'
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<EventMessage xmlns="{MESSAGE_NS}">'
        f"<Header><Verb>created</Verb><Noun>EndDeviceEvents</Noun><Timestamp>{escape(created)}</Timestamp>"
        f"<Source>HES</Source><CorrelationID>{cid}</CorrelationID></Header>"
        f'<Payload><EndDeviceEvents xmlns="{EDE_NS}">{event}</EndDeviceEvents></Payload></EventMessage>'
    ).encode()


@dataclass(frozen=True)
class ControlReply:
    """What one reply says about one command."""

    command_id: str
    ok: bool
    error_code: str | None = None
    error_text: str | None = None


@dataclass(frozen=True)
class RelayEvent:
    command_id: str | None
    meter: str
    event_type: str  # the CIM EndDeviceEventType as sent
    created: str | None


def _tree(data: bytes) -> Any:
    """The document through defusedxml's refusals, namespaces checked, names made local."""
    parser = expat_parser(data, MAX_REPLY_BYTES)
    builder = TreeBuilder()

    def start(name: str, attrs: dict[str, str]) -> None:
        local = local_name(name)
        ns = name[: name.rfind("}")] if "}" in name else ""
        if not (accepted_namespace(ns, NOUN) or accepted_namespace(ns, "EndDeviceEvents")):
            raise ParseError(f"element {local!r} is in the foreign namespace {ns!r}", "foreign_namespace")
        builder.start(local, attrs)

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: builder.end(local_name(name))
    parser.CharacterDataHandler = builder.data
    run_expat(parser, data)
    return builder.close()


def _text(element: Any, path: str) -> str | None:
    found = element.find(path) if element is not None else None
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def noun_of(data: bytes) -> str:
    """The Noun of a CIM message (EndDeviceControls or EndDeviceEvents); ParseError otherwise."""
    root = _tree(data)
    noun = _text(root, "Header/Noun")
    if noun is None:
        payload = root.find("Payload")
        noun = payload[0].tag if payload is not None and len(payload) else None
    if noun not in (NOUN, "EndDeviceEvents"):
        raise ParseError(f"Noun {noun!r} is not EndDeviceControls or EndDeviceEvents")
    return noun


def read_control_replies(data: bytes) -> list[ControlReply]:
    """The commands a ResponseMessage / created EventMessage answers, one reply per control."""
    root = _tree(data)
    if root.tag not in ("ResponseMessage", "EventMessage", "CreatedEndDeviceControls"):
        raise ParseError(f"root element {root.tag!r} is not a reply (ResponseMessage or EventMessage)")
    if _text(root, "Header/Noun") != NOUN:
        raise ParseError("the Header Noun must be EndDeviceControls")
    result = _text(root, "Reply/Result")
    ok = result in (None, "OK") if root.tag != "ResponseMessage" else result == "OK"
    if root.tag == "ResponseMessage" and result not in ("OK", "PARTIAL", "FAILED"):
        raise ParseError(f"Reply/Result {result!r} is not OK, PARTIAL or FAILED")
    error_code, error_text = _text(root, "Reply/Error/code"), _text(root, "Reply/Error/details")
    ids = [
        _text(control, "issuerTrackingID") or _text(control, "mRID")
        for control in root.iterfind("Payload/EndDeviceControls/EndDeviceControl")
    ]
    found = [cid for cid in ids if cid]
    if not found:
        correlation = _text(root, "Header/CorrelationID")
        if correlation is None:
            raise ParseError("no command id: neither EndDeviceControl/issuerTrackingID nor CorrelationID")
        found = [correlation]
    return [ControlReply(cid, ok, None if ok else error_code, None if ok else error_text) for cid in found]


def read_relay_events(data: bytes) -> list[RelayEvent]:
    """Relay events of an EndDeviceEvents message with the command each tracks (issuerTrackingID)."""
    root = _tree(data)
    correlation = _text(root, "Header/CorrelationID")
    events = []
    for event in root.iterfind("Payload/EndDeviceEvents/EndDeviceEvent"):
        meter = _text(event, "Assets/mRID") or _text(event, "Assets/Names/name")
        type_element = event.find("EndDeviceEventType")
        event_type = None if type_element is None else type_element.get("ref")
        if not meter or not event_type:
            raise ParseError("an EndDeviceEvent needs Assets/mRID and EndDeviceEventType/@ref")
        command_id = _text(event, "issuerTrackingID") or correlation
        events.append(RelayEvent(command_id, meter, event_type, _text(event, "createdDateTime")))
    return events
