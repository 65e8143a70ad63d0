"""The people's steps of a DO-list part: drop rows with a reason, approve, OTP to the control-centre
authority bound to this part, confirm; and a payment notice cancelling one consumer's order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.audit.log import record, record_many
from service.auth.principal import Principal
from service.auth.scoping import can_see
from service.commands import issuing
from service.disconnections.commanding import finish_part_if_done
from service.disconnections.models import ListOrder, ListPart
from service.notifications import otp
from service.processes import queue

OTP_PURPOSE = "disconnection_part"
MAX_DROP_REASON = 200


class StepRefused(ValueError):
    """The step is not possible now (error code + message for the API)."""

    def __init__(self, error: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.error, self.status = error, status


def part_for(session: Session, principal: Principal, part_id: int, *, lock: bool = False) -> ListPart:
    stmt = select(ListPart).where(ListPart.id == part_id)
    part = session.scalar(stmt.with_for_update() if lock else stmt)
    if part is None or not can_see(session, principal, part.division_id):
        raise StepRefused("not_found", f"No DO-list part {part_id}.", 404)
    return part


def drop(
    session: Session, principal: Principal, part_id: int, order_ids: list[int], reason: str
) -> list[int]:
    """The officer drops consumers from the part (e.g. paid today); returns the orders dropped."""
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_DROP_REASON:
        raise StepRefused(
            "invalid_reason", f"A reason of 1 to {MAX_DROP_REASON} characters is required.", 422
        )
    part = part_for(session, principal, part_id, lock=True)
    if part.state != "verifying":
        raise StepRefused(
            "part_not_verifying", f"The part is {part.state}; rows can be dropped only before approval."
        )
    dropped = list(
        session.scalars(
            update(ListOrder)
            .where(ListOrder.part_id == part.id, ListOrder.id.in_(order_ids), ListOrder.state == "pending")
            .values(state="dropped", reason=f"dropped by {principal.name}: {reason}")
            .returning(ListOrder.id)
        )
    )
    record_many(
        session, principal.actor, "disconnection_dropped", "disconnection_order",
        [(str(i), None, {"reason": reason}) for i in dropped],
    )  # fmt: skip
    return dropped


def approve(session: Session, principal: Principal, part_id: int, remarks: str, now: datetime) -> ListPart:
    """The division's officer approves what is left of the part (completes the verification task)."""
    part = part_for(session, principal, part_id, lock=True)
    if part.state != "verifying" or part.instance_id is None:
        raise StepRefused("part_not_verifying", f"The part is {part.state}.")
    item = queue.open_item_for(session, principal, part.instance_id, "verify_list")
    if item is None:
        raise StepRefused("no_task", "The verification task is not open for you.", 403)
    part.state, part.approved_by, part.approved_at = "approved", principal.name, now
    queue.complete(session, principal, item.id, {"decision": "approve", "remarks": remarks[:1000]})
    return part


def send_otp(session: Session, principal: Principal, part_id: int, now: datetime) -> otp.IssuedOtp:
    """An OTP to the authority's mobile, bound to this part (a new one replaces an older one)."""
    part = part_for(session, principal, part_id, lock=True)
    _confirm_task(session, principal, part)
    assert principal.user_id is not None
    return otp.issue(
        session, user_id=principal.user_id, purpose=OTP_PURPOSE, object_key=str(part.id),
        purpose_label=f"DO list {part.part_key}", now=now,
    )  # fmt: skip


@dataclass(frozen=True)
class Confirmation:
    ok: bool
    reason: str
    attempts_left: int


def confirm(session: Session, principal: Principal, part_id: int, code: str, now: datetime) -> Confirmation:
    """Check the OTP; on a match the part is confirmed and its commands go out. The caller commits
    either way (a wrong code counts an attempt; the third locks the OTP)."""
    part = part_for(session, principal, part_id, lock=True)
    item = _confirm_task(session, principal, part)
    assert principal.user_id is not None
    checked = otp.verify(
        session, user_id=principal.user_id, purpose=OTP_PURPOSE, object_key=str(part.id), code=code, now=now
    )
    if not checked.ok:
        return Confirmation(False, checked.reason, checked.attempts_left)
    part.state, part.confirmed_by, part.confirmed_at = "confirmed", principal.name, now
    queue.complete(session, principal, item.id, {"confirmed": True})
    return Confirmation(True, "ok", checked.attempts_left)


def _confirm_task(session: Session, principal: Principal, part: ListPart) -> queue.WorkItem:
    if part.state != "approved" or part.instance_id is None:
        raise StepRefused("part_not_approved", f"The part is {part.state}; the OTP step follows approval.")
    if principal.user_id is None:
        raise StepRefused("people_only", "Only a person can confirm with an OTP.", 403)
    item = queue.open_item_for(session, principal, part.instance_id, "confirm_otp")
    if item is None:
        raise StepRefused("no_task", "The OTP confirmation task is not open for you.", 403)
    return item


def cancel_for_payment(
    session: Session, principal: Principal, consumer_id: int, reference: str, now: datetime
) -> list[int]:
    """A payment notice: that consumer's disconnections not yet sent are cancelled, nobody else's."""
    orders = list(
        session.scalars(
            select(ListOrder)
            .join(ListPart, ListPart.id == ListOrder.part_id)
            .where(
                ListOrder.consumer_id == consumer_id,
                ListOrder.state.in_(("pending", "commanded")),
                ListPart.part_key.startswith("disconnect:"),
            )  # fmt: skip
            .with_for_update(of=ListOrder)
        )
    )
    pending = [o for o in orders if o.state == "pending"]
    cancelled_commands = set(
        issuing.cancel(session, [o.command_pk for o in orders if o.command_pk], "paid", now)
    )
    done = []
    for order in orders:
        if order.state == "pending" or order.command_pk in cancelled_commands:
            order.state, order.reason, order.finished_at = "cancelled", f"payment {reference}", now
            done.append(order.id)
    session.flush()
    for part in session.scalars(select(ListPart).where(ListPart.id.in_({o.part_id for o in orders}))):
        finish_part_if_done(session, part)
    record(session, principal.actor, "disconnection_cancelled_paid", "consumer", str(consumer_id), None,
           {"orders": done, "reference": reference, "pending_before_commands": [o.id for o in pending]})  # fmt: skip
    return done
