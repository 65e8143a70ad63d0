"""Quarantine: accepted rows of meters, feeders or DTRs not (yet) in master data.

Held column-wise per (batch, subject, measure) and replayed through the one ingest path when
the subject exists (`service.readings.replay`): by a periodic job on the `ingest` queue, and by `replay_quarantine()`,
which master-data upserts call after they commit new meters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select, union_all
from sqlalchemy.orm import Session

from integrations.canonical import CanonicalBatch, Events, Intervals, NetworkEnergy, Registers
from service.audit.log import Actor, record
from service.auth.principal import Principal
from service.auth.scoping import scope_to_org
from service.masterdata import Dtr, Feeder, Meter
from service.readings.models import IngestBatch, QuarantinedReadings

REPLAY_ACTOR = Actor("system", "quarantine-replay")
REPLAY_CHUNK = 200  # quarantine groups per replay transaction
_REASONS = {
    "meter": "meter {code!r} is not in master data",
    "feeder": "feeder {code!r} is not in master data",
    "dtr": "DTR {code!r} is not in master data",
}


def hold(
    session: Session,
    *,
    subject_kind: str,
    subject_code: str,
    measure: str,
    payload: dict[str, list[Any]],
    source: str,
    message_id: str | None,
    batch_id: int,
) -> None:
    """Quarantine one subject's rows of one measure (in the caller's transaction)."""
    row_count = len(next(iter(payload.values()), []))
    session.execute(
        insert(QuarantinedReadings).values(
            subject_kind=subject_kind,
            subject_code=subject_code,
            measure=measure,
            row_count=row_count,
            payload=payload,
            reason=_REASONS[subject_kind].format(code=subject_code),
            source=source,
            message_id=message_id,
            batch_id=batch_id,
        )
    )


def replayable_ids(session: Session, limit: int = REPLAY_CHUNK) -> list[int]:
    """Quarantine groups whose subject now exists in master data, oldest first."""
    q = QuarantinedReadings
    known = union_all(
        select(q.id, q.quarantined_at)
        .join(Meter, Meter.serial_number == q.subject_code)
        .where(q.subject_kind == "meter"),
        select(q.id, q.quarantined_at)
        .join(Feeder, Feeder.code == q.subject_code)
        .where(q.subject_kind == "feeder"),
        select(q.id, q.quarantined_at).join(Dtr, Dtr.code == q.subject_code).where(q.subject_kind == "dtr"),
    ).subquery()
    return list(session.scalars(select(known.c.id).order_by(known.c.quarantined_at, known.c.id).limit(limit)))


def to_batch(group: QuarantinedReadings) -> CanonicalBatch:
    """Rebuild the canonical batch of a quarantine group (timestamps are stored as UTC ISO)."""
    p, n = group.payload, group.row_count
    batch = CanonicalBatch(source=group.source, message_id=group.message_id)
    subject = np.array([group.subject_code] * n, dtype=object)

    def stamps(values: list[str | None]) -> Any:
        return np.array([v if v is not None else "NaT" for v in values], dtype="datetime64[s]")

    if group.measure == "interval":
        batch.intervals = Intervals(
            meter=subject,
            channel=np.array(p["channel"], dtype=object),
            interval_end=stamps(p["interval_end"]),
            value=np.array(p["value"], dtype=np.float64),
            interval_minutes=np.array(p["interval_minutes"], dtype=np.int16),
        )
    elif group.measure == "register":
        batch.registers = Registers(
            meter=subject,
            kind=np.array(p["kind"], dtype=object),
            channel=np.array(p["channel"], dtype=object),
            tod_zone=np.array(p["tod_zone"], dtype=np.int16),
            read_at=stamps(p["read_at"]),
            value=np.array(p["value"], dtype=np.float64),
            occurred_at=stamps(p["occurred_at"]),
            reading_status=np.array(p["reading_status"], dtype=object),
        )
    elif group.measure == "event":
        batch.events = Events(
            meter=subject,
            code=np.array(p["code"], dtype=np.int32),
            occurred_at=stamps(p["occurred_at"]),
            restored_at=stamps(p["restored_at"]),
            snapshot=list(p["snapshot"]),
        )
    else:
        batch.network = NetworkEnergy(
            kind=np.array(p["kind"], dtype=object),
            code=subject,
            channel=np.array(p["channel"], dtype=object),
            interval_end=stamps(p["interval_end"]),
            value=np.array(p["value"], dtype=np.float64),
            interval_minutes=np.array(p["interval_minutes"], dtype=np.int16),
        )
    return batch


class NotFound(LookupError):
    """No quarantine group with that id the principal may see."""


def _visible(principal: Principal) -> Any:
    """Groups whose sender (the batch's org unit) lies at or below the principal's org unit."""
    return scope_to_org(
        select(QuarantinedReadings).join(IngestBatch, IngestBatch.id == QuarantinedReadings.batch_id),
        IngestBatch.org_unit_id,
        principal,
    )


def list_groups(
    session: Session,
    principal: Principal,
    *,
    reason: str | None = None,
    meter: str | None = None,
    source: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> dict[str, Any]:
    """Held groups the principal may see, newest first, filtered by reason text, subject, source."""
    q = QuarantinedReadings
    stmt = _visible(principal)
    if reason:
        stmt = stmt.where(q.reason.ilike(f"%{_like(reason)}%", escape="\\"))
    if meter:
        stmt = stmt.where(q.subject_code == meter)
    if source:
        stmt = stmt.where(q.source == source)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    groups = session.scalars(
        stmt.order_by(q.quarantined_at.desc(), q.id.desc()).limit(page_size).offset((page - 1) * page_size)
    ).all()
    return page_of(
        total,
        page,
        page_size,
        [
            {
                "id": g.id,
                "subject_kind": g.subject_kind,
                "subject_code": g.subject_code,
                "measure": g.measure,
                "rows": g.row_count,
                "reason": g.reason,
                "source": g.source,
                "message_id": g.message_id,
                "batch_id": g.batch_id,
                "quarantined_at": g.quarantined_at,
            }
            for g in groups
        ],
    )


def page_of(total: int, page: int, page_size: int, items: list[dict[str, Any]]) -> dict[str, Any]:
    """One page of a listing, with the total it is a page of (every list shows its total)."""
    return {"total": int(total), "page": page, "page_size": page_size, "items": items}


def _like(text_value: str) -> str:
    return text_value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def discard(
    session: Session, principal: Principal, group_id: int, reason: str, actor: Actor
) -> dict[str, Any]:
    """Delete one held group for a stated reason; the audit log keeps what it held."""
    group = session.scalar(_visible(principal).where(QuarantinedReadings.id == group_id).with_for_update())
    if group is None:
        raise NotFound(group_id)
    before = {
        "subject_kind": group.subject_kind,
        "subject_code": group.subject_code,
        "measure": group.measure,
        "rows": group.row_count,
        "source": group.source,
        "message_id": group.message_id,
        "batch_id": group.batch_id,
        "payload": group.payload,
    }
    session.execute(delete(QuarantinedReadings).where(QuarantinedReadings.id == group_id))
    record(session, actor, "discard", "quarantined_readings", str(group_id), before, {"reason": reason})
    return {"id": group_id, "discarded": group.row_count, "reason": reason}
