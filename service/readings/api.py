"""Read API of the measurement store: intervals, registers, events and totals of one meter.

Systems need the `readings:read` scope; people see meters of their org unit and below (others
answer 404, as unknown meters do, so a serial's existence does not leak).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, request
from flask_smorest import Blueprint
from sqlalchemy import select

from integrations.canonical import INTERVAL_CHANNELS, REGISTER_KINDS
from service.api_errors import fail
from service.audit.log import Actor
from service.auth.guards import current_principal, require
from service.auth.scoping import scope_to_org
from service.extensions import db
from service.masterdata import Meter
from service.readings import event_types, quarantine, replay
from service.readings import totals as reads
from service.unit_of_work import unit_of_work

bp = Blueprint("readings", __name__, url_prefix="/api/v1/meters", description="Meter readings (read API)")
held = Blueprint(
    "readings_held", __name__, url_prefix="/api/v1", description="Quarantine and unmapped CIM event types"
)
IST = ZoneInfo("Asia/Kolkata")
MAX_PAGE_SIZE = 500
MANAGE_ROLES = ("analyst",)

MAX_RANGE = timedelta(days=93)
MAX_MONTHLY_RANGE = timedelta(days=731)
_RANGE_DOC = (
    "`start` and `end` are ISO 8601 (UTC when no offset is given); a value is returned when its"
    " time is after `start` and at or before `end` (interval ends: `start` exclusive, `end`"
    " inclusive). At most 93 days."
)


def _meter(serial: str) -> Meter:
    stmt = scope_to_org(
        select(Meter).where(Meter.serial_number == serial), Meter.org_unit_id, current_principal()
    )
    meter = db.session.scalar(stmt)
    if meter is None:
        fail(404, "meter_not_found", f"No meter with serial {serial!r}.")
    return meter


def _moment(name: str) -> datetime:
    raw = request.args.get(name)
    if not raw:
        fail(
            400, "missing_parameter", f"{name} is required (ISO 8601, e.g. 2026-10-05T00:00:00Z).", field=name
        )
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        fail(400, "invalid_date", f"{name} is not an ISO 8601 date-time: {raw!r}.", field=name)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _day(name: str) -> date:
    raw = request.args.get(name)
    if not raw:
        fail(400, "missing_parameter", f"{name} is required (an IST date, e.g. 2026-10-05).", field=name)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        fail(400, "invalid_date", f"{name} is not an ISO 8601 date: {raw!r}.", field=name)


def _range(limit: timedelta = MAX_RANGE) -> tuple[datetime, datetime]:
    start, end = _moment("start"), _moment("end")
    _check_range(start, end, limit)
    return start, end


def _check_range(start: Any, end: Any, limit: timedelta) -> None:
    if start >= end:
        fail(400, "invalid_range", "start must be before end.")
    if end - start > limit:
        fail(400, "range_too_long", f"The range may span at most {limit.days} days.")


def _validated() -> bool:
    view = request.args.get("view", "raw")
    if view not in ("raw", "validated"):
        fail(400, "invalid_view", "view must be 'raw' or 'validated'.", field="view")
    return view == "validated"


def _channel(allowed: tuple[str, ...] = tuple(INTERVAL_CHANNELS)) -> str:
    channel = request.args.get("channel", "kwh")
    if channel not in allowed:
        fail(
            400,
            "unknown_channel",
            f"Unknown channel {channel!r}; one of {', '.join(allowed)}.",
            field="channel",
        )
    return channel


@bp.route("/<serial>/intervals")
@bp.doc(
    description="Interval (block load) values. "
    + _RANGE_DOC
    + " `view=validated` shows only valid, estimated and edited values."
)
@require("readings:read")
def meter_intervals(serial: str) -> dict[str, Any]:
    meter = _meter(serial)
    channel = _channel()
    start, end = _range()
    validated = _validated()
    values = reads.intervals(db.session(), meter.id, channel, start, end, validated)
    return {"meter": meter.serial_number, "channel": channel, "intervals": values}


@bp.route("/<serial>/registers")
@bp.doc(
    description="Register reads (daily, billing with TOD zones and MD time, scalar, instant). " + _RANGE_DOC
)
@require("readings:read")
def meter_registers(serial: str) -> dict[str, Any]:
    meter = _meter(serial)
    start, end = _range()
    kind = request.args.get("kind")
    if kind is not None and kind not in REGISTER_KINDS:
        fail(
            400,
            "unknown_kind",
            f"Unknown register kind {kind!r}; one of {', '.join(REGISTER_KINDS)}.",
            field="kind",
        )
    values = reads.registers(db.session(), meter.id, start, end, kind, _validated())
    return {"meter": meter.serial_number, "registers": values}


@bp.route("/<serial>/events")
@bp.doc(description="Meter events (IS 15959 codes). " + _RANGE_DOC)
@require("readings:read")
def meter_events(serial: str) -> dict[str, Any]:
    meter = _meter(serial)
    start, end = _range()
    return {"meter": meter.serial_number, "events": reads.events(db.session(), meter.id, start, end)}


@bp.route("/<serial>/totals")
@bp.doc(
    description="Energy totals per IST day (`period=daily`, at most 93 days) or month (`monthly`, at most"
    " 731 days); `start` and `end` are IST dates, both included."
)
@require("readings:read")
def meter_totals(serial: str) -> dict[str, Any]:
    meter = _meter(serial)
    period = request.args.get("period", "daily")
    if period not in ("daily", "monthly"):
        fail(400, "invalid_period", "period must be 'daily' or 'monthly'.", field="period")
    channel = _channel(reads.ENERGY_CHANNELS)
    first, last = _day("start"), _day("end")
    if first > last:
        fail(400, "invalid_range", "start must not be after end.")
    _check_range(first, last + timedelta(days=1), MAX_RANGE if period == "daily" else MAX_MONTHLY_RANGE)
    validated = _validated()
    values = reads.totals(db.session(), meter.id, channel, period, first, last, validated)
    return {"meter": meter.serial_number, "channel": channel, "period": period, "totals": values}


def page_args() -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        size = int(request.args.get("page_size", 50))
    except ValueError:
        fail(400, "invalid_page", "page and page_size must be whole numbers.")
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        fail(400, "invalid_page", f"page must be >= 1 and page_size 1..{MAX_PAGE_SIZE}.")
    return page, size


def _with_ist(items: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    """Times as ISO 8601 in IST with the zone's offset (what people read)."""
    for item in items:
        for name in names:
            value = item.get(name)
            if isinstance(value, datetime):
                item[name] = value.astimezone(IST).isoformat()
    return items


@held.route("/quarantine")
@held.doc(
    description="Values held because their meter (feeder, DTR) is not in master data: one group per"
    " batch, subject and measure. Filters: `reason` (text), `meter` (serial or code), `source`;"
    " `page`, `page_size`. Times in IST (+05:30). Scoped to the caller's org unit."
)
@require("readings:read")
def quarantine_list() -> dict[str, Any]:
    page, size = page_args()
    result = quarantine.list_groups(
        db.session(),
        current_principal(),
        reason=(request.args.get("reason") or "").strip()[:200] or None,
        meter=(request.args.get("meter") or "").strip()[:64] or None,
        source=(request.args.get("source") or "").strip()[:64] or None,
        page=page,
        page_size=size,
    )
    _with_ist(result["items"], "quarantined_at")
    return result


@held.route("/quarantine/replay", methods=["POST"])
@held.doc(description="Replay now every held group whose subject master data has since brought.")
@require("readings:write", roles=MANAGE_ROLES)
def quarantine_replay() -> dict[str, Any]:
    principal = current_principal()
    with unit_of_work() as uow:
        done = replay.replay(uow.session, Actor(principal.kind, principal.name), limit=10_000)
        uow.commit()
    return done


@held.route("/quarantine/<int:group_id>/discard", methods=["POST"])
@held.doc(description='Discard one held group: body `{"reason": "..."}` (required, audited with the values).')
@require("readings:write", roles=MANAGE_ROLES)
def quarantine_discard(group_id: int) -> dict[str, Any]:
    body = request.get_json(silent=True) or {}
    reason = body.get("reason") if isinstance(body, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        fail(400, "missing_reason", 'Give the reason for discarding: {"reason": "..."}.', field="reason")
    principal = current_principal()
    with unit_of_work() as uow:
        try:
            done = quarantine.discard(
                uow.session, principal, group_id, reason.strip()[:500], Actor(principal.kind, principal.name)
            )
        except quarantine.NotFound:
            fail(404, "not_found", f"No quarantine group {group_id}.")
        uow.commit()
    return done


@held.route("/cim/event-types/unmapped")
@held.doc(
    description="CIM EndDeviceEventTypes stored without an IS 15959 mapping, with event and meter"
    " counts and first/last occurrence (IST), most frequent first; paginated with the total."
)
@require("readings:read")
def unmapped_event_types() -> dict[str, Any]:
    page, size = page_args()
    result = event_types.unmapped_types(db.session(), current_principal(), page, size)
    _with_ist(result["items"], "first_at", "last_at")
    return result


@held.route("/cim/event-types/reclassify", methods=["POST"])
@held.doc(description="Re-read the event-type mapping file and move stored events of newly mapped types.")
@require("events:write", roles=MANAGE_ROLES)
def reclassify_event_types() -> dict[str, Any]:
    principal = current_principal()
    with unit_of_work() as uow:
        done = event_types.reclassify(
            uow.session,
            event_types.event_type_mapping(current_app.extensions["cmdms.config"]),
            Actor(principal.kind, principal.name),
        )
        uow.commit()
    return done
