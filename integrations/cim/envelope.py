"""IEC 61968-100 envelopes as real senders wrap them: message roots, WSDL wrappers, SOAP 1.1/1.2.

`EnvelopeReader` follows the elements outside the payload (streamed by the parsers), checks
their namespaces, and yields a `Header`: verb (normalised to its action), noun, ids, properties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import TreeBuilder

from integrations.canonical import ParseError
from integrations.parsing import expat_parser, local_name, run_expat

MESSAGE_NS = "http://iec.ch/TC57/2011/schema/message"
SOAP_NS = {
    "http://schemas.xmlsoap.org/soap/envelope/": "1.1",
    "http://www.w3.org/2003/05/soap-envelope": "1.2",
}
MESSAGE_ROOTS = ("RequestMessage", "EventMessage", "ResponseMessage")
# The verb as sent -> what it does here (61968-100 lists the present and past forms).
VERBS = {
    "create": "create",
    "created": "create",
    "change": "change",
    "changed": "change",
    "close": "close",
    "closed": "close",
    "cancel": "cancel",
    "canceled": "cancel",
    "cancelled": "cancel",
    "delete": "delete",
    "deleted": "delete",
    "reply": "reply",
}
HEADER_FIELDS = (
    "Verb",
    "Noun",
    "Revision",
    "Context",
    "Timestamp",
    "Source",
    "MessageID",
    "CorrelationID",
    "Comment",
)
YEARS = ("2009", "2011", "2016")
# Some WSDL toolchains write "www.iec.ch" (seen in public Connexo stubs); same schema.
_IEC_NS = re.compile(r"^http://(?:www\.)?iec\.ch/TC57/(\d{4})/(.+)$")
_WRAPPER = re.compile(r"^(Created|Changed|Canceled|Closed|Deleted|Create|Change|Cancel|Close|Delete)(\w+)$")


def accepted_namespace(ns: str, noun: str) -> bool:
    """The 61968-9 / -100 namespaces of 2009, 2011 and 2016 for this noun, SOAP, or none."""
    if ns == "" or ns in SOAP_NS:
        return True
    match = _IEC_NS.match(ns)
    if match is None or match.group(1) not in YEARS:
        return False
    return match.group(2) in ("schema/message", f"{noun}#", f"{noun}Message", f"{noun}Message#")


@dataclass
class Header:
    verb: str  # as sent ("created")
    action: str  # what it means here: create, change, close, cancel, delete, reply
    noun: str
    root: str
    soap: str | None = None  # "1.1" | "1.2" when the request came in a SOAP envelope
    revision: str | None = None
    context: str | None = None
    timestamp: str | None = None
    source: str | None = None
    message_id: str | None = None
    correlation_id: str | None = None
    properties: dict[str, str] = field(default_factory=dict)


class EnvelopeReader:
    """Elements outside the payload: `start`/`end` return True when they took the element."""

    def __init__(self, noun: str, default_verb: str | None = None) -> None:
        self.noun = noun
        self.default_verb = default_verb
        self.root: str | None = None  # the message element (EventMessage, CreatedMeterReadings, ...)
        self.soap: str | None = None
        self.fields: dict[str, str] = {}
        self.properties: dict[str, str] = {}
        self.in_header = False
        self.in_soap_header = False
        self.in_reply = False
        self.property_name: str | None = None
        self.property_value: str | None = None
        self.wrapper_verb: str | None = None
        self.payload_seen = False
        self.bare = False

    def check_namespace(self, full: str, local: str) -> None:
        ns = full[: full.rfind("}")] if "}" in full else ""
        if not self.in_soap_header and not accepted_namespace(ns, self.noun):
            raise ParseError(
                f"element {local!r} is in the foreign namespace {ns!r} (accepted: the IEC 61968-9 "
                f"{', '.join(YEARS)} namespaces for {self.noun}, the 61968-100 message namespace, SOAP)",
                "foreign_namespace",
            )

    def start(self, local: str, full: str) -> bool:
        if self.in_soap_header:
            return True
        if self.root is None:
            ns = full[: full.rfind("}")] if "}" in full else ""
            if local == "Envelope" and ns in SOAP_NS and self.soap is None:
                self.soap = SOAP_NS[ns]
                return True
            if self.soap is not None and local == "Header" and ns in SOAP_NS:
                self.in_soap_header = True
                return True
            if self.soap is not None and local == "Body" and ns in SOAP_NS:
                return True
            if local == self.noun:
                # A bare payload: verb and noun come from the endpoint.
                self.root = local
                self.bare = True
                self.payload_seen = True
                return False
            self.root = local
            wrapper = _WRAPPER.match(local)
            if wrapper is not None and wrapper.group(2) == self.noun:
                self.wrapper_verb = wrapper.group(1).lower()
            elif local not in MESSAGE_ROOTS and local != f"{self.noun}ResponseMessage":
                raise ParseError(
                    f"root element {local!r} is not a message envelope ({', '.join(MESSAGE_ROOTS)}, "
                    f"the {self.noun} WSDL wrappers, a SOAP Envelope or a bare {self.noun})"
                )
            return True
        if self.in_header:
            if local == "Property":
                self.property_name = self.property_value = None
            return True
        if self.in_reply:
            return True
        if local == "Header":
            self.in_header = True
            return True
        if local in ("Reply", "Request"):
            self.in_reply = True
            return True
        if local == "Payload":
            self.check()
            self.payload_seen = True
            return True
        return False

    def end(self, local: str, text: str) -> None:
        if self.in_soap_header:
            if local == "Header":
                self.in_soap_header = False
            return
        if self.in_header:
            if local == "Header":
                self.in_header = False
            elif local == "Name":
                self.property_name = text.strip()
            elif local == "Value":
                self.property_value = text.strip()
            elif local == "Property":
                if self.property_name:
                    self.properties[self.property_name] = self.property_value or ""
            elif local in HEADER_FIELDS:
                self.fields[local] = text.strip()
        elif self.in_reply and local in ("Reply", "Request"):
            self.in_reply = False

    def check(self) -> Header:
        """Refuse a message whose envelope is not one we take, with the reason."""
        if self.root is None:
            raise ParseError("the document has no message element")
        fields = self.fields
        if self.bare:
            verb = self.default_verb or "created"
            noun = self.noun
        else:
            if ("Verb" not in fields or "Noun" not in fields) and self.wrapper_verb is None:
                raise ParseError("the message Header must have a Verb and a Noun")
            verb = fields.get("Verb") or (self.wrapper_verb or "")
            noun = fields.get("Noun") or self.noun
        if noun != self.noun:
            raise ParseError(f"Noun {noun!r} sent to the {self.noun} endpoint")
        action = VERBS.get(verb)
        if action is None:
            raise ParseError(f"Verb {verb!r} is not accepted for {noun} (use one of {tuple(VERBS)})")
        return Header(
            verb=verb,
            action=action,
            noun=noun,
            root=self.root,
            soap=self.soap,
            revision=fields.get("Revision"),
            context=fields.get("Context"),
            timestamp=fields.get("Timestamp"),
            source=fields.get("Source"),
            message_id=fields.get("MessageID"),
            correlation_id=fields.get("CorrelationID"),
            properties=dict(self.properties),
        )


class _TreeState:
    __slots__ = ("depth", "text", "done")

    def __init__(self) -> None:
        self.depth = 0
        self.text = ""
        self.done = False


def read_envelope_tree(
    data: bytes, noun: str, *, max_bytes: int, default_verb: str | None = None
) -> tuple[Header, Any]:
    """Small messages (events): the checked Header and the payload as an ElementTree element.

    Element names in the tree are local names; every element's namespace is checked first.
    """
    parser = expat_parser(data, max_bytes)
    envelope = EnvelopeReader(noun, default_verb)
    builder = TreeBuilder()
    state = _TreeState()

    def start(name: str, attrs: dict[str, str]) -> None:
        local = local_name(name)
        envelope.check_namespace(name, local)
        state.text = ""
        if state.depth:
            state.depth += 1
            builder.start(local, attrs)
        elif local == noun and not state.done and not envelope.in_soap_header:
            if envelope.root is None:
                envelope.start(local, name)
            state.depth = 1
            builder.start(local, attrs)
        else:
            envelope.start(local, name)

    def end(name: str) -> None:
        local = local_name(name)
        if state.depth:
            builder.end(local)
            state.depth -= 1
            state.done = state.depth == 0
        else:
            envelope.end(local, state.text)

    def text(chunk: str) -> None:
        if state.depth:
            builder.data(chunk)
        else:
            state.text = state.text + chunk

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    run_expat(parser, data)
    header = envelope.check()
    if not state.done:
        raise ParseError(f"the message has no Payload with {noun}")
    return header, builder.close()
