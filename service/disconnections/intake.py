"""Taking a DO or RC list: each row checked with its reason, good rows grouped by division into
parts, one process instance per part (verification and OTP for DO, commands at once for RC)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.audit.log import Actor, record
from service.disconnections.models import CommandList, ListOrder, ListPart
from service.masterdata.supply import ConsumerSupply, consumers_by_ivrs, org_unit_codes
from service.processes.runtime import StartRequest, start_instance

MAX_ROWS = 20_000
SMART_CLASSES = ("smart_1ph", "smart_3ph")
PROCESS_OF = {"disconnect": "disconnect", "reconnect": "reconnect"}


@dataclass
class ListResult:
    list_id: int
    accepted: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)
    parts: list[dict[str, Any]] = field(default_factory=list)
    duplicate: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "list_id": self.list_id, "accepted": self.accepted, "rejected": len(self.rejects),
            "rejects": self.rejects, "parts": self.parts, "duplicate": self.duplicate,
        }  # fmt: skip


class ListRefused(Exception):
    """The whole list is refused (nothing is stored): the status, error code and details to answer."""

    def __init__(self, status: int, error: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.error, self.details = status, error, details


def take_body(session: Session, kind: str, body: Any, actor: Actor) -> ListResult:
    """A list as billing sends it (the POST API and the signed webhook alike):
    {"list_ref", "rows": [{"ivrs_number", "amount_due_inr"}]}. Refused whole when the body is
    malformed or every row is rejected (the caller rolls back: a refused list stores nothing and
    may be sent again corrected); otherwise the rejected rows come back with their reasons."""
    if not isinstance(body, dict):
        raise ListRefused(400, "invalid_json", "Send a JSON object with list_ref and rows.")
    list_ref = body.get("list_ref")
    if not isinstance(list_ref, str) or not 1 <= len(list_ref.strip()) <= 40:
        raise ListRefused(
            422, "invalid_field", "list_ref: billing's id of the list, 1 to 40 characters.", field="list_ref"
        )
    rows = body.get("rows")
    if not isinstance(rows, list) or not rows:
        raise ListRefused(422, "invalid_field", "'rows' must be a non-empty list.", field="rows")
    if len(rows) > MAX_ROWS:
        raise ListRefused(413, "too_many_rows", f"At most {MAX_ROWS} rows per list.", field="rows")
    result = take_list(session, kind, list_ref.strip(), rows, actor)
    if result.accepted == 0:
        raise ListRefused(
            422, "all_rows_rejected", "Every row of the list was rejected; nothing was stored.",
            rejected=len(result.rejects), rejects=result.rejects,
        )  # fmt: skip
    return result


def webhook_handler(kind: str) -> Callable[[Session, str, dict[str, Any]], Any]:
    """The signed-webhook form of the list: {"type": ..., "data": <the POST API's body>}; the same
    validation and per-row reasons, the answer kept by the webhook receipt for a replayed key."""
    from service.processes.webhooks import WebhookAnswer, WebhookRefused

    def handle(session: Session, system: str, payload: dict[str, Any]) -> WebhookAnswer:
        try:
            result = take_body(session, kind, payload.get("data"), Actor("system", system))
        except ListRefused as exc:
            raise WebhookRefused(exc.status, exc.error, str(exc), **exc.details) from None
        return WebhookAnswer(200, result.as_dict())

    return handle


def _row_reason(kind: str, facts: ConsumerSupply | None) -> tuple[str, str] | None:
    """(error, message) when the row cannot be taken, else None."""
    if facts is None:
        return "unknown_consumer", "no consumer has this IVRS number"
    if facts.meter_class not in SMART_CLASSES or not facts.hes_code or facts.meter_id is None:
        return "not_smart_meter", "the consumer's meter is not a smart meter behind a HES"
    if facts.is_prepaid:
        return "prepaid", "a prepaid consumer is disconnected by the prepaid process, not a DO list"
    if kind == "disconnect" and facts.essential_service:
        return "essential_service", "the consumer is flagged essential (hospital, life support)"
    if kind == "disconnect" and facts.supply_status != "connected":
        return "already_disconnected", f"supply status is {facts.supply_status}"
    if kind == "reconnect" and facts.supply_status == "connected":
        return "already_connected", "supply status is connected"
    if facts.division_id is None:
        return "no_division", "the consumer's org unit lies under no division"
    return None


def _amount(raw: Any) -> Decimal | None:
    if raw is None:
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError("amount_due_inr: not a number") from None
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise ValueError("amount_due_inr: must be 0 or more and below 10^12")
    return value.quantize(Decimal("0.01"))


def take_list(session: Session, kind: str, list_ref: str, rows: list[Any], actor: Actor) -> ListResult:
    """Store the list and its rows (rejected rows too, with their reason) and start the parts."""
    created = session.execute(
        insert(CommandList)
        .values(kind=kind, list_ref=list_ref, source=actor.name, rows_total=len(rows))
        .on_conflict_do_nothing(constraint="uq_disconnection_lists_ref")
        .returning(CommandList.id)
    ).scalar_one_or_none()
    if created is None:  # the same list again: what it did the first time, nothing new
        existing = session.scalars(
            select(CommandList).where(CommandList.kind == kind, CommandList.list_ref == list_ref)
        ).one()
        return _replay(session, existing)
    result = ListResult(created)
    ivrs = [str(r.get("ivrs_number") or "").strip() if isinstance(r, dict) else "" for r in rows]
    facts = consumers_by_ivrs(session, [i for i in ivrs if i])
    seen: set[str] = set()
    orders: list[dict[str, Any]] = []
    for n, (row, number) in enumerate(zip(rows, ivrs, strict=True)):
        reason: tuple[str, str, str] | None = None
        amount = None
        if not isinstance(row, dict):
            reason = ("", "invalid_row", "each row must be an object")
        elif not number or len(number) > 32:
            reason = ("ivrs_number", "invalid_field", "ivrs_number: required, at most 32 characters")
        elif number in seen:
            reason = ("ivrs_number", "duplicate_in_list", "the consumer is already in this list")
        else:
            try:
                amount = _amount(row.get("amount_due_inr"))
            except ValueError as exc:
                reason = ("amount_due_inr", "invalid_field", str(exc))
            found = _row_reason(kind, facts.get(number)) if reason is None else None
            if found is not None:
                reason = ("ivrs_number", *found)
        fact = facts.get(number)
        if reason is None:
            seen.add(number)
        else:
            result.rejects.append({"row": n, "field": reason[0], "error": reason[1], "message": reason[2]})
        orders.append(
            dict(
                list_id=created, row_no=n, ivrs_number=number[:32], amount_due_inr=amount,
                consumer_id=fact.consumer_id if fact else None, org_unit_id=fact.org_unit_id if fact else None,
                division_id=fact.division_id if fact else None,
                state="rejected" if reason else "pending", reason=f"{reason[1]}: {reason[2]}" if reason else None,
            )
        )  # fmt: skip
    if orders:
        session.execute(insert(ListOrder), orders)
    session.execute(
        CommandList.__table__.update()
        .where(CommandList.id == created)
        .values(rows_rejected=len(result.rejects))
    )
    result.accepted = len(rows) - len(result.rejects)
    _start_parts(session, kind, list_ref, created, actor, result)
    record(session, actor, f"{kind}_list_received", "disconnection_list", str(created), None,
           {"list_ref": list_ref, "rows": len(rows), "rejected": len(result.rejects)})  # fmt: skip
    return result


def _start_parts(
    session: Session, kind: str, list_ref: str, list_id: int, actor: Actor, result: ListResult
) -> None:
    divisions: dict[int, int] = defaultdict(int)
    for division_id in session.scalars(
        select(ListOrder.division_id).where(ListOrder.list_id == list_id, ListOrder.state == "pending")
    ):
        if division_id is not None:  # a pending row always has one (no_division is a reject)
            divisions[division_id] += 1
    codes = org_unit_codes(session, divisions)
    for division_id in sorted(divisions):
        key = f"{kind}:{list_ref}:{codes[division_id]}"[:120]
        part = ListPart(list_id=list_id, division_id=division_id, part_key=key)
        session.add(part)
        session.flush()
        session.execute(
            ListOrder.__table__.update()
            .where(
                ListOrder.list_id == list_id,
                ListOrder.division_id == division_id,
                ListOrder.state == "pending",
            )
            .values(part_id=part.id)
        )
        instance = start_instance(
            session,
            StartRequest(PROCESS_OF[kind], {"part_key": key, "part_id": part.id, "orders": divisions[division_id]},
                         key, division_id),
            actor,
        )  # fmt: skip
        part.instance_id = instance.id
        result.parts.append(
            {"part_id": part.id, "division": codes[division_id], "orders": divisions[division_id],
             "instance_id": instance.id}
        )  # fmt: skip


def _replay(session: Session, existing: CommandList) -> ListResult:
    result = ListResult(existing.id, duplicate=True)
    for order in session.scalars(
        select(ListOrder)
        .where(ListOrder.list_id == existing.id, ListOrder.state == "rejected")
        .order_by(ListOrder.row_no)
    ):
        error, _, message = (order.reason or "").partition(": ")
        result.rejects.append(
            {"row": order.row_no, "field": "ivrs_number", "error": error, "message": message}
        )
    result.accepted = existing.rows_total - existing.rows_rejected
    for part in session.scalars(
        select(ListPart).where(ListPart.list_id == existing.id).order_by(ListPart.id)
    ):
        result.parts.append({"part_id": part.id, "instance_id": part.instance_id})
    return result
