"""The IEC 61968-100 ResponseMessage CMDMS answers a CIM request with (SOAP-wrapped if asked in SOAP).

Result OK (everything accepted), PARTIAL (some values refused) or FAILED (nothing stored); one
`Error` per refused value or block, with its locator and reason; `CorrelationID` is the
request's `MessageID`. Elements are written in the schema's order (Message.xsd).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from integrations.cim.envelope import MESSAGE_NS, SOAP_NS

SOAP_BY_VERSION = {version: ns for ns, version in SOAP_NS.items()}
SOAP_MEDIA = {None: "application/xml", "1.1": "text/xml", "1.2": "application/soap+xml"}
RESULTS = ("OK", "PARTIAL", "FAILED")


@dataclass(frozen=True)
class ReplyError:
    """One refused item: `code` is machine-readable, `locator` says where it was in the request."""

    code: str
    reason: str
    locator: str | None = None
    level: str = "WARNING"  # FATAL when the whole request was refused
    meter: str | None = None
    timestamp: str | None = None


def errors_from_rejects(rejects: Sequence[dict[str, Any]]) -> list[ReplyError]:
    """The ingest result's rejects (locator, meter, timestamp, field, reason) as reply errors."""
    return [
        ReplyError(
            code=f"rejected.{r.get('field') or 'value'}",
            reason=str(r.get("reason") or ""),
            locator=r.get("locator"),
            meter=r.get("meter"),
            timestamp=r.get("timestamp"),
        )
        for r in rejects
    ]


def _el(name: str, value: str | None) -> str:
    return "" if value is None else f"<{name}>{escape(value)}</{name}>"


def _error(error: ReplyError) -> str:
    details = "; ".join(
        f"{label}={value}"
        for label, value in (
            ("locator", error.locator),
            ("meter", error.meter),
            ("timestamp", error.timestamp),
        )
        if value
    )
    obj = ""
    if error.meter:
        obj = f"<object>{_el('mRID', error.meter)}<objectType>Meter</objectType></object>"
    return (
        f"<Error>{_el('code', error.code)}{_el('level', error.level)}{_el('reason', error.reason)}"
        f"{_el('details', details or None)}{obj}</Error>"
    )


def response_message(
    *,
    noun: str,
    result: str,
    errors: Sequence[ReplyError],
    correlation_id: str | None,
    message_id: str,
    timestamp: str,
    source: str = "CMDMS",
    ids: Sequence[tuple[str, str]] = (),
    wrapper: str | None = None,
) -> str:
    """The ResponseMessage (or `<Noun>ResponseMessage` WSDL wrapper) as a string, schema order."""
    if result not in RESULTS:
        raise ValueError(f"Result must be one of {RESULTS}, not {result!r}")
    header = (
        f"<Verb>reply</Verb>{_el('Noun', noun)}{_el('Timestamp', timestamp)}{_el('Source', source)}"
        f"{_el('MessageID', message_id)}{_el('CorrelationID', correlation_id)}"
    )
    id_elements = "".join(f"<ID idType={quoteattr(kind)}>{escape(value)}</ID>" for kind, value in ids)
    reply = f"<Result>{result}</Result>{''.join(_error(e) for e in errors)}{id_elements}"
    if wrapper is None:
        return f'<ResponseMessage xmlns="{MESSAGE_NS}"><Header>{header}</Header><Reply>{reply}</Reply></ResponseMessage>'
    # A WSDL wrapper: its own children in the wrapper's namespace, theirs in the message one.
    wrapper_ns = f"http://iec.ch/TC57/2011/{noun}Message"
    qualified = header.replace("<", "<msg:").replace("<msg:/", "</msg:")
    qualified_reply = reply.replace("<", "<msg:").replace("<msg:/", "</msg:")
    return (
        f'<ns2:{wrapper} xmlns:ns2="{wrapper_ns}" xmlns:msg="{MESSAGE_NS}">'
        f"<ns2:Header>{qualified}</ns2:Header><ns2:Reply>{qualified_reply}</ns2:Reply></ns2:{wrapper}>"
    )


def envelope(document: str, soap: str | None) -> bytes:
    """The reply document as bytes, inside a SOAP 1.1 or 1.2 envelope when the request was SOAP."""
    if soap is None:
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{document}'.encode()
    ns = SOAP_BY_VERSION[soap]
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="{ns}">'
        f"<soapenv:Body>{document}</soapenv:Body></soapenv:Envelope>"
    ).encode()
