"""Planned outages: recorded by staff or received from SCADA/OMS; `outage_notification.bpmn`
tells the consumers on the feeder/DT ahead of time, and again when the times change or the
outage is cancelled (docs/outages.md, "Planned outages").

Logic only: the entry point owns the transaction. A sender's own id (`external_id`) makes a
re-sent message harmless: the same content changes nothing, new times are a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.log import Actor, record
from service.auth.principal import Principal
from service.auth.scoping import can_see
from service.masterdata.network import consumers_on, supply_point
from service.notifications import notify
from service.outages.detection import local_day
from service.outages.models import PlannedOutage
from service.outbox.handlers import PermanentError
from service.processes.runtime import StartRequest, deliver_message, start_instance
from service.web.times import to_ist

PROCESS_ID = "outage_notification"
MAX_DURATION = timedelta(days=3)
MAX_AHEAD = timedelta(days=90)
REASON_MAX = 200
EXTERNAL_ID_MAX = 64


class PlannedOutageRefused(ValueError):
    """Input that cannot be a planned outage; `error`/`field` name what and where (API errors)."""

    def __init__(self, status: int, error: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.error, self.field = status, error, field


@dataclass(frozen=True)
class Recorded:
    outage: PlannedOutage
    outcome: str  # created | changed | unchanged


def outage_key(outage_id: int) -> str:
    return f"planned-outage:{outage_id}"


def _when(value: Any, field: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise PlannedOutageRefused(
                422, "invalid_field", f"{field} is not an ISO 8601 time.", field
            ) from None
    else:
        raise PlannedOutageRefused(422, "invalid_field", f"{field} must be an ISO 8601 time.", field)
    if parsed.tzinfo is None:
        raise PlannedOutageRefused(
            422,
            "invalid_field",
            f"{field} needs its offset (e.g. +05:30): a time without a zone is ambiguous.",
            field,
        )
    return parsed.astimezone(UTC)


def check_times(starts: Any, ends: Any, now: datetime) -> tuple[datetime, datetime]:
    starts_at, ends_at = _when(starts, "starts_at"), _when(ends, "ends_at")
    if ends_at <= starts_at:
        raise PlannedOutageRefused(422, "invalid_period", "ends_at must be after starts_at.", "ends_at")
    if ends_at - starts_at > MAX_DURATION:
        raise PlannedOutageRefused(422, "invalid_period", "A planned outage lasts at most 3 days.", "ends_at")
    if ends_at <= now:
        raise PlannedOutageRefused(422, "invalid_period", "The outage is already over.", "ends_at")
    if starts_at - now > MAX_AHEAD:
        raise PlannedOutageRefused(422, "invalid_period", "Plan at most 90 days ahead.", "starts_at")
    return starts_at, ends_at


def check_reason(reason: Any) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise PlannedOutageRefused(422, "invalid_field", "Give the reason (e.g. maintenance).", "reason")
    if len(reason) > REASON_MAX:
        raise PlannedOutageRefused(
            422, "invalid_field", f"reason is longer than {REASON_MAX} characters.", "reason"
        )
    return reason.strip()


def record_planned(
    session: Session,
    principal: Principal,
    body: dict[str, Any],
    now: datetime,
    *,
    source: str,
) -> Recorded:
    """A new planned outage (and its notice process), or a change of the one with the same
    (source, external_id). Raises PlannedOutageRefused naming the field."""
    level, code = body.get("level"), body.get("code")
    if level not in ("feeder", "dt"):
        raise PlannedOutageRefused(422, "invalid_field", "level must be 'feeder' or 'dt'.", "level")
    if not isinstance(code, str) or not code or len(code) > 32:
        raise PlannedOutageRefused(422, "invalid_field", "code must be a feeder or DT code.", "code")
    external_id = body.get("external_id")
    if external_id is not None and (
        not isinstance(external_id, str) or not 0 < len(external_id) <= EXTERNAL_ID_MAX
    ):
        raise PlannedOutageRefused(
            422,
            "invalid_field",
            f"external_id must be a string of 1-{EXTERNAL_ID_MAX} characters.",
            "external_id",
        )
    point = supply_point(session, level, code)
    if point is None or not can_see(session, principal, point.org_unit_id):
        raise PlannedOutageRefused(422, "unknown_subject", f"No {level} {code!r} in your area.", "code")
    if external_id is not None:
        existing = session.scalar(
            select(PlannedOutage)
            .where(PlannedOutage.source == source, PlannedOutage.external_id == external_id)
            .with_for_update()
        )
        if existing is not None:
            if (existing.level, existing.subject) != (level, code):
                raise PlannedOutageRefused(
                    409,
                    "external_id_reused",
                    f"external_id {external_id!r} is a planned outage of another {existing.level}.",
                )
            return change_planned(session, principal, existing.id, body, now)
    starts_at, ends_at = check_times(body.get("starts_at"), body.get("ends_at"), now)
    reason = check_reason(body.get("reason"))
    outage = PlannedOutage(
        source=source,
        external_id=external_id,
        level=level,
        subject=code,
        feeder_code=code if level == "feeder" else None,
        dt_code=code if level == "dt" else None,
        org_unit_id=point.org_unit_id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        status="scheduled",
        revision=1,
        consumers_affected=len(consumers_on(session, level, code, local_day(starts_at))),
        created_by=principal.name,
    )
    session.add(outage)
    session.flush()
    data = {"planned_outage_id": outage.id, "outage_key": outage_key(outage.id)}
    instance = start_instance(
        session, StartRequest(PROCESS_ID, data, outage_key(outage.id), point.org_unit_id), principal.actor
    )
    outage.instance_id = instance.id
    record(
        session,
        principal.actor,
        "planned_outage.recorded",
        "planned_outage",
        str(outage.id),
        None,
        _audit(outage),
    )
    return Recorded(outage, "created")


def _scoped(session: Session, principal: Principal, outage_id: int) -> PlannedOutage:
    outage = session.get(PlannedOutage, outage_id, with_for_update=True)
    if outage is None or not can_see(session, principal, outage.org_unit_id):
        raise PlannedOutageRefused(404, "not_found", f"No planned outage {outage_id} in your area.")
    return outage


def change_planned(
    session: Session, principal: Principal, outage_id: int, body: dict[str, Any], now: datetime
) -> Recorded:
    """New times or reason (an extension is one); the consumers hear of new times."""
    outage = _scoped(session, principal, outage_id)
    if outage.status == "cancelled":
        raise PlannedOutageRefused(409, "cancelled", f"Planned outage {outage.id} was cancelled.")
    starts_at, ends_at = check_times(body.get("starts_at"), body.get("ends_at"), now)
    reason = check_reason(body.get("reason", outage.reason))
    if (starts_at, ends_at, reason) == (outage.starts_at, outage.ends_at, outage.reason):
        return Recorded(outage, "unchanged")
    before = _audit(outage)
    times_changed = (starts_at, ends_at) != (outage.starts_at, outage.ends_at)
    outage.starts_at, outage.ends_at, outage.reason = starts_at, ends_at, reason
    if times_changed:
        outage.revision += 1
        outage.consumers_affected = len(
            consumers_on(session, outage.level, outage.subject, local_day(starts_at))
        )
        session.flush()
        deliver_message(
            session,
            "planned_outage_changed",
            outage_key(outage.id),
            {"revision": outage.revision},
            principal.actor,
        )
    record(
        session,
        principal.actor,
        "planned_outage.changed",
        "planned_outage",
        str(outage.id),
        before,
        _audit(outage),
    )
    return Recorded(outage, "changed")


def cancel_planned(session: Session, principal: Principal, outage_id: int, now: datetime) -> Recorded:
    outage = _scoped(session, principal, outage_id)
    if outage.status == "cancelled":
        return Recorded(outage, "unchanged")
    before = _audit(outage)
    outage.status, outage.cancelled_at = "cancelled", now
    session.flush()
    deliver_message(session, "planned_outage_cancelled", outage_key(outage.id), {}, principal.actor)
    record(
        session,
        principal.actor,
        "planned_outage.cancelled",
        "planned_outage",
        str(outage.id),
        before,
        _audit(outage),
    )
    return Recorded(outage, "changed")


def _audit(outage: PlannedOutage) -> dict[str, Any]:
    return {
        "level": outage.level,
        "code": outage.subject,
        "starts_at": outage.starts_at.isoformat(),
        "ends_at": outage.ends_at.isoformat(),
        "reason": outage.reason,
        "status": outage.status,
        "revision": outage.revision,
    }


def _stamp(at: datetime) -> str:
    local = to_ist(at)
    return local.strftime("%d-%m-%Y %H:%M") if local else ""


NOTICE_TYPES = {
    "announced": "planned_outage",
    "changed": "planned_outage_changed",
    "cancelled": "planned_outage_cancelled",
}


def check_notice_params(params: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance(params.get("planned_outage_id"), int) or params.get("kind") not in NOTICE_TYPES:
        raise PermanentError(
            f"needs planned_outage_id (int) and kind ({', '.join(NOTICE_TYPES)}), got {params}"
        )
    return {"checked": True}


def write_notices(
    session: Session, params: dict[str, Any], context: Any, now: datetime | None = None
) -> dict[str, Any]:
    """The service task `outages.planned_notice`: one message per consumer on the feeder/DT as
    the network stands on the outage's first day. Runs when the task completes; re-running it
    writes nothing twice (a dedupe key per outage, revision, kind and consumer)."""
    outage = session.get(PlannedOutage, int(params["planned_outage_id"]))
    if outage is None:
        raise ValueError(f"no planned outage {params['planned_outage_id']}")
    kind = str(params["kind"])
    if kind != "cancelled" and outage.status == "cancelled":
        # The cancellation overtook this notice (its message waits for the gateway): say nothing
        # now; the cancellation notice follows.
        return {"notified": 0, "ends_at": outage.ends_at.isoformat(), "revision": outage.revision}
    area = (f"feeder {outage.subject}" if outage.level == "feeder" else f"DT {outage.subject}")[:40]
    message_params = {"area": area, "start": _stamp(outage.starts_at)}
    if kind != "cancelled":
        message_params["end"] = _stamp(outage.ends_at)
    revision = "cancelled" if kind == "cancelled" else f"r{outage.revision}"
    consumers = consumers_on(session, outage.level, outage.subject, local_day(outage.starts_at))
    created = 0
    for consumer_id in consumers:
        created += notify(
            session,
            consumer_id=consumer_id,
            message_type=NOTICE_TYPES[kind],
            params=message_params,
            dedupe_key=f"{outage_key(outage.id)}:{revision}:{kind}:{consumer_id}",
            now=now,
        ).created
    record(
        session,
        Actor("system", "workflow:outage_notification"),
        f"planned_outage.notice_{kind}",
        "planned_outage",
        str(outage.id),
        None,
        {"consumers": len(consumers), "new_messages": created, "revision": outage.revision},
    )
    return {"notified": len(consumers), "ends_at": outage.ends_at.isoformat(), "revision": outage.revision}
