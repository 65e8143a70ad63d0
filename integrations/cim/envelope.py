"""The IEC 61968-100 message envelope: Header (verb, noun, timestamp, ids) around a Payload."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.canonical import ParseError

MESSAGE_NS = "http://iec.ch/TC57/2011/schema/message"
ROOTS = ("RequestMessage", "EventMessage", "ResponseMessage")
ACCEPTED_VERBS = ("create", "created", "change", "changed", "reply")
HEADER_FIELDS = ("Verb", "Noun", "Revision", "Timestamp", "Source", "MessageID", "CorrelationID", "User")


@dataclass(frozen=True)
class Header:
    verb: str
    noun: str
    timestamp: str | None
    source: str | None
    message_id: str | None
    correlation_id: str | None


def check_header(root: str | None, fields: dict[str, str], noun: str) -> Header:
    """Refuse a message whose envelope is not one we take, with the reason."""
    if root not in ROOTS:
        raise ParseError(f"root element {root!r} is not a message envelope ({', '.join(ROOTS)})")
    if "Verb" not in fields or "Noun" not in fields:
        raise ParseError("the message Header must have a Verb and a Noun")
    if fields["Noun"] != noun:
        raise ParseError(f"Noun {fields['Noun']!r} sent to the {noun} endpoint")
    if fields["Verb"] not in ACCEPTED_VERBS:
        raise ParseError(f"Verb {fields['Verb']!r} is not accepted for {noun} (use one of {ACCEPTED_VERBS})")
    return Header(
        verb=fields["Verb"],
        noun=fields["Noun"],
        timestamp=fields.get("Timestamp"),
        source=fields.get("Source"),
        message_id=fields.get("MessageID"),
        correlation_id=fields.get("CorrelationID"),
    )
