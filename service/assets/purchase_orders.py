"""Purchase orders of meters with their lines; what each line has delivered (assets received)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.assets.models import ASSET_GROUPS, MeterAsset, PurchaseOrder, PurchaseOrderLine
from service.assets.schemas import IDENTIFIER
from service.audit.log import Actor, record
from service.masterdata.installation_switch import org_unit_ids_by_code


class LineCreate(Schema):
    class Meta:
        unknown = RAISE

    line_no = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=999))
    make = fields.String(required=True, validate=validate.Length(min=1, max=80))
    model = fields.String(load_default=None, validate=validate.Length(max=80))
    meter_class = fields.String(required=True, validate=validate.Length(min=1, max=16))
    asset_group = fields.String(required=True, validate=validate.OneOf(ASSET_GROUPS))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1_000_000))
    warranty_months = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=0, max=240))


class PurchaseOrderCreate(Schema):
    class Meta:
        unknown = RAISE

    po_number = fields.String(required=True, validate=[validate.Length(min=1, max=40), IDENTIFIER])
    vendor = fields.String(required=True, validate=validate.Length(min=1, max=120))
    po_date = fields.Date(required=True)
    org_unit_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    lines = fields.List(fields.Nested(LineCreate), required=True, validate=validate.Length(min=1, max=500))

    @validates_schema
    def _distinct_lines(self, data: dict[str, Any], **_: Any) -> None:
        numbers = [line["line_no"] for line in data.get("lines", [])]
        if len(numbers) != len(set(numbers)):
            raise ValidationError("line_no repeats within the order.", field_name="lines")
        if not date(2000, 1, 1) <= data["po_date"] <= date(2100, 1, 1):
            raise ValidationError("Not a plausible PO date.", field_name="po_date")


class PoRefused(ValueError):
    def __init__(self, status: int, error: str, message: str, field: str) -> None:
        super().__init__(message)
        self.status, self.error, self.field = status, error, field


@dataclass(frozen=True)
class PoOutcome:
    po_id: int
    duplicate: bool


def _as_plain(po: PurchaseOrder, lines: list[PurchaseOrderLine]) -> dict[str, Any]:
    return {
        "vendor": po.vendor, "po_date": po.po_date,
        "lines": sorted((ln.line_no, ln.make, ln.model, ln.meter_class, ln.asset_group, ln.quantity,
                         ln.warranty_months) for ln in lines),
    }  # fmt: skip


def create_purchase_order(
    session: Session, body: Any, actor: Actor, visible_orgs: set[int] | None
) -> PoOutcome:
    """Store a PO with its lines; the same PO again is a duplicate, a different one under the
    same number is refused (a PO is amended in the purchase system, not here)."""
    try:
        data = PurchaseOrderCreate().load(body if isinstance(body, dict) else {})
    except ValidationError as exc:
        name, messages = sorted(exc.messages.items())[0]  # type: ignore[union-attr]
        first = messages[0] if isinstance(messages, list) else messages
        raise PoRefused(422, "invalid_field", str(first), str(name)) from None
    org = org_unit_ids_by_code(session, [data["org_unit_code"]]).get(data["org_unit_code"])
    if org is None or (visible_orgs is not None and org not in visible_orgs):
        raise PoRefused(422, "unknown_org_unit", "no such org unit", "org_unit_code")
    existing = session.scalars(
        select(PurchaseOrder).where(PurchaseOrder.po_number == data["po_number"]).with_for_update()
    ).first()
    lines = [PurchaseOrderLine(**line) for line in data["lines"]]
    if existing is not None:
        stored = list(
            session.scalars(select(PurchaseOrderLine).where(PurchaseOrderLine.po_id == existing.id))
        )
        wanted = PurchaseOrder(vendor=data["vendor"], po_date=data["po_date"])
        if _as_plain(existing, stored) == _as_plain(wanted, lines) and existing.org_unit_id == org:
            return PoOutcome(existing.id, True)
        raise PoRefused(409, "po_differs", "a different PO is stored under this number", "po_number")
    po = PurchaseOrder(
        po_number=data["po_number"], vendor=data["vendor"], po_date=data["po_date"], org_unit_id=org
    )
    session.add(po)
    session.flush()
    for line in lines:
        line.po_id = po.id
    session.add_all(lines)
    session.flush()
    record(session, actor, "create", "purchase_order", po.po_number, None,
           {"vendor": po.vendor, "lines": len(lines), "quantity": sum(ln.quantity for ln in lines)})  # fmt: skip
    return PoOutcome(po.id, False)


def po_lines(session: Session, po_number: str, visible_orgs: set[int] | None) -> list[dict[str, Any]] | None:
    """The PO's lines with ordered, delivered (counted from the assets) and outstanding
    quantities; None when there is no such PO at or below the caller's org units."""
    org = session.scalar(select(PurchaseOrder.org_unit_id).where(PurchaseOrder.po_number == po_number))
    if org is None or (visible_orgs is not None and org not in visible_orgs):
        return None
    received = (
        select(MeterAsset.po_line_id, func.count().label("n")).group_by(MeterAsset.po_line_id).subquery()
    )
    rows = session.execute(
        select(PurchaseOrderLine, func.coalesce(received.c.n, 0))
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.po_id)
        .outerjoin(received, received.c.po_line_id == PurchaseOrderLine.id)
        .where(PurchaseOrder.po_number == po_number)
        .order_by(PurchaseOrderLine.line_no)
    ).all()
    return [
        {"line_no": ln.line_no, "make": ln.make, "model": ln.model, "meter_class": ln.meter_class,
         "asset_group": ln.asset_group, "quantity": ln.quantity, "delivered": ln.delivered,
         "assets_received": int(n), "outstanding": ln.quantity - ln.delivered}
        for ln, n in rows
    ]  # fmt: skip
