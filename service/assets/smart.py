"""Scalar -> smart replacement from the field app (`workflows/meter_replacement.bpmn`): checked
like a scalar one, then a process runs the HES commissioning read of the new meter, posts the
replacement to billing through the outbox, and waits for billing's signed decision. Approval
switches the installation at the replacement instant; a rejection (or a silent meter) becomes a
work item for the field officer with the reason."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from service.assets.models import MeterReplacement
from service.assets.replacement import (
    Checked,
    Outcome,
    ReplacementReport,
    check_report,
    new_replacement,
    switch,
)
from service.audit.log import Actor, record
from service.commands import HesCommand, issuing
from service.commands.issuing import CommandOrder
from service.commands.replies import register_reading
from service.masterdata.installation_switch import meter_serials, meters_by_serial, open_installation
from service.outbox.handlers import PermanentError
from service.processes.runtime import StartRequest, deliver_message, start_instance

PROCESS_ID = "meter_replacement"
BATCH_PREFIX = "replacement:"
ACTOR = Actor("system", "meter-replacement")


def replacement_key(replacement_id: int) -> str:
    return f"replacement-{replacement_id}"


def start_smart_replacement(
    session: Session, report: ReplacementReport, actor: Actor, now: datetime, visible_orgs: set[int] | None
) -> Outcome:
    """Check the report (new meter: a smart meter in store behind a HES) and start its process.
    The installation is not touched until billing approves. Never commits."""
    checked = check_report(session, report, now, visible_orgs, kind="smart")
    if not isinstance(checked, Checked):
        return checked
    row = new_replacement(session, report, checked, "smart", "commissioning", actor.name)
    key = replacement_key(row.id)
    data = {
        "replacement_id": row.id, "replacement_key": key, "ivrs_number": report.ivrs_number,
        "old_meter_serial": report.old_meter_serial, "new_meter_serial": report.new_meter_serial,
        "final_kwh": str(report.final_kwh), "initial_kwh": str(report.initial_kwh),
        "photo_ref": report.photo_ref,
        # The instant stays inside the posting (a mapping): the task page lists plain values, and
        # a bare ISO time there would be shown without its IST zone.
        "billing_body": {
            "replacement_id": row.id, "ivrs_number": report.ivrs_number,
            "old_meter_serial": report.old_meter_serial, "final_kwh": str(report.final_kwh),
            "new_meter_serial": report.new_meter_serial, "initial_kwh": str(report.initial_kwh),
            "replaced_at": report.replaced_at.isoformat(), "photo_ref": report.photo_ref,
        },
    }  # fmt: skip
    instance = start_instance(session, StartRequest(PROCESS_ID, data, key, checked.consumer_org_id), actor)
    row.instance_id = instance.id
    record(session, actor, "create", "meter_replacement", str(row.id), None,
           {"kind": "smart", "ivrs_number": report.ivrs_number, "old": report.old_meter_serial,
            "new": report.new_meter_serial, "replaced_at": report.replaced_at.isoformat()})  # fmt: skip
    return Outcome(int(row.id))


def _replacement(session: Session, params: dict[str, Any]) -> MeterReplacement:
    row = session.get(MeterReplacement, int(params["replacement_id"]), with_for_update=True)
    if row is None:
        raise PermanentError(f"no replacement {params['replacement_id']}")
    return row


def check_params(params: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance(params.get("replacement_id"), int):
        raise PermanentError("needs the replacement_id")
    return {"checked": True}


def write_commission(session: Session, params: dict[str, Any], context: Any) -> dict[str, Any]:
    """An on-demand read of the new meter through its HES; its result comes back by callback."""
    row = _replacement(session, params)
    meter = next(iter(meters_by_serial_ids(session, row.new_meter_id)), None)
    command_id = f"commission-{row.id}"
    if meter is None or not meter.hes_code:
        deliver_message(session, "commissioning_read_done", replacement_key(row.id),
                        {"ok": False, "reason": "the new meter is behind no HES"}, ACTOR)  # fmt: skip
        return {"command_id": None}
    order = CommandOrder(command_id, "read", meter.meter_id, meter.serial, meter.hes_code, meter.org_unit_id,
                         row.consumer_id)  # fmt: skip
    ids = issuing.create(session, [order], batch_key=f"{BATCH_PREFIX}{row.id}")
    issuing.schedule(session, list(ids.values()))
    return {"command_id": command_id}


def meters_by_serial_ids(session: Session, meter_id: int) -> list[Any]:
    serials = meter_serials(session, [meter_id])
    return list(meters_by_serial(session, list(serials.values())).values())


def on_commands_finished(session: Session, commands: list[HesCommand]) -> None:
    """Listener of service.commands: a commissioning read's result resumes its replacement."""
    for command in commands:
        if not (command.batch_key or "").startswith(BATCH_PREFIX) or command.action != "read":
            continue
        replacement_id = int(str(command.batch_key).removeprefix(BATCH_PREFIX))
        row = session.get(MeterReplacement, replacement_id, with_for_update=True)
        if row is None or row.state != "commissioning":
            continue
        register = register_reading(session, command) if command.state == "succeeded" else None
        reason = commissioning_refusal(command, register, row.initial_kwh)
        ok = reason is None
        row.state, row.reason = ("awaiting_billing" if ok else "rejected"), reason
        deliver_message(session, "commissioning_read_done", replacement_key(replacement_id),
                        {"ok": ok, "reason": reason, "command_id": command.command_id,
                         "register_kwh": None if register is None else str(register)}, ACTOR)  # fmt: skip


def commissioning_refusal(command: HesCommand, register: float | None, initial_kwh: Decimal) -> str | None:
    """Why the commissioning read does not commission the new meter, or None: the meter must
    answer, with a kWh register, not below the initial read the field reported."""
    if command.state != "succeeded":
        return f"the new meter did not answer the commissioning read ({command.reason or command.state})"
    if register is None:
        return "the commissioning read returned no kWh register value"
    if Decimal(str(register)) < initial_kwh:
        return f"the commissioning read {register:g} kWh is below the initial read {initial_kwh:f} kWh"
    return None


def write_switch(session: Session, params: dict[str, Any], context: Any) -> dict[str, Any]:
    """Billing approved: the installation switches at the replacement instant (once)."""
    row = _replacement(session, params)
    if row.state == "done":
        return {"switched": True}
    installation = open_installation(session, row.old_meter_id, lock=True)
    if installation is None or installation.consumer_id != row.consumer_id:
        row.state, row.reason = "failed", "the old meter is no longer installed on the consumer"
        return {"switched": False, "reason": row.reason}
    switch(session, row, installation, meter_serials(session, [row.old_meter_id])[row.old_meter_id], ACTOR)
    return {"switched": True}


def decision_handler(session: Session, system: str, payload: dict[str, Any]) -> Any:
    """Billing's signed webhook `replacement.decision`: {"data": {"replacement_id", "decision":
    "approved" | "rejected", "reason"}} — resumes the replacement's process."""
    from service.processes.webhooks import WebhookAnswer, WebhookRefused

    data = payload.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("replacement_id"), int):
        raise WebhookRefused(
            422, "invalid_field", "data.replacement_id: the replacement's id.", field="replacement_id"
        )
    decision = data.get("decision")
    if decision not in ("approved", "rejected"):
        raise WebhookRefused(422, "invalid_field", "data.decision: approved or rejected.", field="decision")
    reason = str(data.get("reason") or "")[:500]
    if decision == "rejected" and not reason.strip():
        raise WebhookRefused(422, "invalid_field", "data.reason: say why billing rejects.", field="reason")
    row = session.get(MeterReplacement, data["replacement_id"], with_for_update=True)
    if row is None or row.kind != "smart":
        raise WebhookRefused(404, "unknown_replacement", "No smart replacement has this id.")
    if row.state != "awaiting_billing":
        raise WebhookRefused(409, "not_awaiting_billing", f"The replacement is {row.state}.", state=row.state)
    approved = decision == "approved"
    row.decided_at = datetime.now(UTC)
    if not approved:
        row.state, row.reason = "rejected", reason
    record(
        session, Actor("system", system), decision, "meter_replacement", str(row.id), None, {"reason": reason}
    )
    deliver_message(session, "replacement_decided", replacement_key(row.id),
                    {"ok": approved, "reason": reason or None}, Actor("system", system))  # fmt: skip
    return WebhookAnswer(200, {"replacement_id": row.id, "state": row.state})
