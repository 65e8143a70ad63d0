"""CIM requests through the store: what each verb means here, and the 61968-100 reply to send.

Logic only (no Flask): the endpoint owns the transaction and the HTTP answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from integrations.canonical import CanonicalBatch
from integrations.cim.envelope import Header
from integrations.cim.meter_readings import Quality
from integrations.cim.reply import SOAP_MEDIA, ReplyError, envelope, errors_from_rejects, response_message
from service.audit.log import Actor
from service.readings.deletions import delete_values
from service.readings.ingest import IngestResult, ingest_batch
from service.readings.qualities import store_qualities
from service.readings.usage_points import resolve_usage_points

IST_OFFSET_S = 19_800
# What each verb does to a noun; a verb missing here is refused with its reason.
ACTIONS: dict[str, dict[str, str]] = {
    "MeterReadings": {
        "create": "store",
        "change": "store",
        "reply": "store",
        "delete": "delete",
        "cancel": "delete",
    },
    # close/cancel/delete of an event are stored as updates of it (the parser sets restored_at
    # or the status), so the stored event changes and the old state stays as a revision.
    "EndDeviceEvents": {
        "create": "store",
        "change": "store",
        "reply": "store",
        "close": "store",
        "cancel": "store",
        "delete": "store",
    },
}


class Refused(Exception):
    """The verb has no meaning for the noun: the request is refused whole, nothing stored."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def apply(
    session: Session,
    header: Header,
    batch: CanonicalBatch,
    *,
    actor: Actor,
    qualities: list[Quality] | None = None,
    org_unit_id: int | None = None,
) -> IngestResult:
    """Do what the message's verb asks (in the caller's transaction)."""
    what = ACTIONS[header.noun].get(header.action)
    if what is None:
        raise Refused(
            f"Verb {header.verb!r} has no meaning for {header.noun}: readings are created, changed,"
            " replied, or deleted/cancelled (kept as revisions)"
        )
    resolve_usage_points(session, batch)
    if what == "delete":
        return delete_values(session, batch, actor=actor, verb=header.verb, org_unit_id=org_unit_id)
    result = ingest_batch(session, batch, actor=actor, org_unit_id=org_unit_id)
    if qualities:
        store_qualities(session, qualities, result.batch_id)
    return result


def accepted(result: IngestResult) -> int:
    """Values the message got into the store (new, the same again, revised or held)."""
    return result.stored + result.unchanged + result.revised + result.quarantined


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    media: str


def _ist(now: datetime) -> str:
    local = now.astimezone(UTC).timestamp() + IST_OFFSET_S
    return datetime.fromtimestamp(local, UTC).strftime("%Y-%m-%dT%H:%M:%S+05:30")


def reply(
    noun: str,
    header: Header | None,
    *,
    now: datetime,
    result: IngestResult | None = None,
    refusal: str | None = None,
    refusal_code: str = "refused",
    soap: str | None = None,
) -> Answer:
    """The ResponseMessage for a request: OK / PARTIAL (200) or FAILED (422; 400 when unreadable)."""
    errors: list[ReplyError]
    if result is None:
        errors = [ReplyError(code=refusal_code, reason=refusal or "refused", level="FATAL")]
        outcome, status = "FAILED", 400
    else:
        errors = errors_from_rejects(result.rejects)
        if accepted(result) == 0:
            if not errors:
                errors = [ReplyError(code="empty", reason="the message carries no values", level="FATAL")]
            outcome, status = "FAILED", 422
        else:
            outcome, status = ("PARTIAL" if errors else "OK"), 200
    soap = header.soap if header is not None else soap
    wrapper = None
    if header is not None and header.root not in ("RequestMessage", "EventMessage", "ResponseMessage", noun):
        wrapper = f"{noun}ResponseMessage"
    document = response_message(
        noun=noun,
        result=outcome,
        errors=errors,
        correlation_id=header.message_id if header is not None else None,
        message_id=f"CMDMS-{result.batch_id}" if result is not None else f"CMDMS-{int(now.timestamp())}",
        timestamp=_ist(now),
        ids=[("ingest_batch", str(result.batch_id))] if result is not None else [],
        wrapper=wrapper,
    )
    return Answer(status, envelope(document, soap), SOAP_MEDIA[soap])
