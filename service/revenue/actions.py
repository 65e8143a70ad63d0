"""The ATR workflow's service tasks: the action taken recorded on the case, escalation of an
overdue case, and the replacement of a meter found faulty (through the assets area).

Each is a `write` operation (service.processes.operations): it runs in the transaction that
completes its service task, so a retried job writes nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from service.assets.replacement import ReplacementReport, record_scalar_replacement
from service.audit.log import Actor, record
from service.masterdata.installation_switch import meter_serials
from service.masterdata.profiles import consumer_facts
from service.outbox.handlers import PermanentError
from service.revenue.cases import _actions
from service.revenue.models import OUTCOMES, AtrCase

ACTOR = Actor("system", "atr-case")


def check_case_params(params: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance(params.get("case_id"), int):
        raise PermanentError("needs the case_id")
    return {"checked": True}


def _case(session: Session, params: dict[str, Any]) -> AtrCase:
    case = session.get(AtrCase, int(params["case_id"]), with_for_update=True)
    if case is None:
        raise PermanentError(f"no ATR case {params['case_id']}")
    return case


def _assessment(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise PermanentError(f"assessment_inr {value!r} is not an amount") from exc
    if amount < 0:
        raise PermanentError("assessment_inr must not be negative")
    return amount


def write_action(session: Session, params: dict[str, Any], context: Any) -> dict[str, Any]:
    """Theft confirmed (with the assessment) or no issue closes the case; a faulty meter keeps it
    open until the replacement is recorded."""
    case = _case(session, params)
    result = str(params.get("result"))
    if result not in OUTCOMES:
        raise PermanentError(f"result {result!r} is not one of {', '.join(OUTCOMES)}")
    if case.outcome is not None:
        return {"status": case.status, "outcome": case.outcome}
    now = datetime.now(UTC)
    case.outcome, case.remarks = result, params.get("remarks")
    case.assessment_inr = _assessment(params.get("assessment_inr")) if result == "theft_confirmed" else None
    if result == "meter_faulty":
        case.status = "awaiting_replacement"
    else:
        case.status, case.closed_at, case.closed_by = "closed", now, ACTOR.name
    detail = {"result": result, "assessment_inr": str(case.assessment_inr) if case.assessment_inr else None}
    _actions(session, [(case.id, result, detail)], now, ACTOR)
    record(session, ACTOR, "action_taken", "atr_case", str(case.id), None, detail)
    return {"status": case.status, "outcome": result}


def write_escalation(session: Session, params: dict[str, Any], context: Any) -> dict[str, Any]:
    case = _case(session, params)
    if case.escalated_at is None and case.status != "closed":
        case.escalated_at = datetime.now(UTC)
        _actions(session, [(case.id, "escalated", {})], case.escalated_at, ACTOR)
        record(session, ACTOR, "escalate", "atr_case", str(case.id), None, {"overdue": True})
    return {"escalated": case.escalated_at is not None}


def write_replacement(session: Session, params: dict[str, Any], context: Any) -> dict[str, Any]:
    """The field officer's replacement report, recorded by the assets area (scalar -> scalar);
    its refusals go back to the officer's task, field by field."""
    case = _case(session, params)
    if case.status == "closed":
        return {"ok": True, "already": True}
    if case.meter_id is None:
        return {"ok": False, "refusals": [{"field": "old_meter", "reason": "the case names no meter"}]}
    try:
        report = ReplacementReport(
            ivrs_number=consumer_facts(session, [case.consumer_id])[case.consumer_id][0],
            old_meter_serial=meter_serials(session, [case.meter_id])[case.meter_id],
            new_meter_serial=str(params["new_meter_serial"]),
            replaced_at=_aware(str(params["replaced_at"])),
            final_kwh=Decimal(str(params["final_kwh"])).quantize(Decimal("0.001")),
            initial_kwh=Decimal(str(params["initial_kwh"])).quantize(Decimal("0.001")),
            photo_ref=params.get("photo_ref"),
        )
    except (ValueError, InvalidOperation, KeyError) as exc:
        return {"ok": False, "refusals": [{"field": "replaced_at", "reason": str(exc)}]}
    now = datetime.now(UTC)
    outcome = record_scalar_replacement(session, report, ACTOR, now)
    if not outcome.ok:
        refusals = [{"field": r.field, "reason": r.error, "message": r.message} for r in outcome.refusals]
        return {"ok": False, "refusals": refusals}
    case.status, case.closed_at, case.closed_by = "closed", now, ACTOR.name
    _actions(session, [(case.id, "meter_replaced", {"replacement_id": outcome.replacement_id})], now, ACTOR)
    return {"ok": True, "replacement_id": outcome.replacement_id}


def _aware(value: str) -> datetime:
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise ValueError("replaced_at needs its UTC offset (e.g. +05:30)")
    return at
