"""Meter assets from the field asset system (URJAS), as JSON rows or a CSV: each row a meter's
nameplate (into master data, through its own upsert and checks) and its asset facts (PO line,
asset group, batch, store). A new asset starts in store and counts as delivered on its PO line;
a row that is refused anywhere stores nothing of itself; the other rows are kept."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.assets.csv_rows import EXTRA_CELLS, ImportRefused, read_rows
from service.assets.models import ASSET_GROUPS, MeterAsset, PurchaseOrder, PurchaseOrderLine
from service.assets.moves import move, statuses
from service.assets.schemas import IDENTIFIER
from service.audit.log import Actor
from service.masterdata.installation_switch import meters_by_serial
from service.masterdata.schemas import MeterRow
from service.masterdata.upsert import upsert

MAX_ROWS = 5_000
ASSET_FIELDS = ("po_number", "po_line", "asset_group", "batch", "location")
METER_REQUIRED = ("serial_number", "make", "meter_class", "org_unit_code")
METER_OPTIONAL = ("model", "display_digits", "is_dlms", "firmware", "rating", "po_date", "warranty_end",
                  "multiplying_factor", "meter_constant", "ct_ratio", "pt_ratio", "communication", "hes_code")  # fmt: skip
INTEGER_CELLS = ("po_line", "display_digits")
BOOLEAN_CELLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class AssetFacts(Schema):
    class Meta:
        unknown = EXCLUDE  # the meter's own fields go to master data's schema

    serial_number = fields.String(required=True, validate=[validate.Length(min=1, max=40), IDENTIFIER])
    po_number = fields.String(required=True, validate=[validate.Length(min=1, max=40), IDENTIFIER])
    po_line = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=999))
    asset_group = fields.String(required=True, validate=validate.OneOf(ASSET_GROUPS))
    batch = fields.String(load_default=None, validate=[validate.Length(max=40), IDENTIFIER])
    location = fields.String(load_default=None, validate=[validate.Length(max=80), IDENTIFIER])


@dataclass
class AssetImportResult:
    received: int
    created: int = 0
    updated: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, row: int, field_name: str | None, error: str, message: str) -> None:
        self.rejects.append({"row": row, "field": field_name or "", "error": error, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received, "accepted": self.created + self.updated, "created": self.created,
            "updated": self.updated, "rejected": len({r["row"] for r in self.rejects}),
            "rejects": sorted(self.rejects, key=lambda r: r["row"]),
        }  # fmt: skip


def _first(messages: Any) -> tuple[str, str]:
    name, value = sorted(messages.items())[0]
    return str(name), str(value[0] if isinstance(value, list) else value)


def _cells_to_values(row: dict[str, str]) -> dict[str, Any]:
    """CSV cells are text: integers and yes/no columns become numbers and booleans (a cell that is
    neither stays text, and the schema names it)."""
    out: dict[str, Any] = dict(row)
    for name in INTEGER_CELLS:
        if name in out and out[name].isdigit() and len(out[name]) <= 6:
            out[name] = int(out[name])
    if "is_dlms" in out and out["is_dlms"].lower() in BOOLEAN_CELLS:
        out["is_dlms"] = BOOLEAN_CELLS[out["is_dlms"].lower()]
    return out


def import_assets(
    session: Session, rows: list[Any], actor: Actor, now: datetime, visible_orgs: set[int] | None
) -> AssetImportResult:
    """Check every row, upsert the good rows' meters in master data, then create or update their
    assets and count new ones as delivered on their PO line. Never commits."""
    result = AssetImportResult(len(rows))
    facts: dict[int, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    for n, raw in enumerate(rows):
        if not isinstance(raw, dict) or raw == EXTRA_CELLS:
            result.reject(n, None, "invalid_row", "each row must be an object with the header's cells")
            continue
        if any(isinstance(v, str) and "\x00" in v for v in raw.values()):
            result.reject(n, None, "invalid_row", "a value holds a NUL character")
            continue
        try:
            data = AssetFacts().load(raw)
        except ValidationError as exc:
            result.reject(n, *_first_field(exc))
            continue
        try:  # the meter's checks first, so a bad row takes no room on its PO line
            MeterRow().load({k: v for k, v in raw.items() if k not in ASSET_FIELDS})
        except ValidationError as exc:
            name, _, message = _first_field(exc)
            result.reject(n, name, "invalid_meter", message)
            continue
        serial = data["serial_number"]
        if serial in first_row:
            result.reject(n, "serial_number", "duplicate_in_file", f"same meter as row {first_row[serial]}")
            continue
        first_row[serial] = n
        facts[n] = data
    _check_po_lines(session, rows, facts, result)
    if not facts:
        return result
    order = sorted(facts)
    meter_rows = [{k: v for k, v in rows[n].items() if k not in ASSET_FIELDS} for n in order]
    upserted = upsert(session, "meters", meter_rows, actor, visible_orgs)
    for reject in upserted.rejected:
        n = order[reject.index]
        result.reject(n, reject.field, "invalid_meter", reject.reason)
        facts.pop(n, None)
    _apply(session, rows, facts, actor, now, result)
    return result


def _first_field(exc: ValidationError) -> tuple[str, str, str]:
    name, message = _first(exc.messages if isinstance(exc.messages, dict) else {"": exc.messages})
    return name, "invalid_field", message


def _check_po_lines(
    session: Session, rows: list[Any], facts: dict[int, dict[str, Any]], result: AssetImportResult
) -> None:
    """Each row's PO line exists and is of the row's make; new assets fit in what the line has left."""
    wanted = {(f["po_number"], f["po_line"]) for f in facts.values()}
    lines = {
        (po, ln.line_no): ln
        for po, ln in session.execute(
            select(PurchaseOrder.po_number, PurchaseOrderLine)
            .join(PurchaseOrderLine, PurchaseOrderLine.po_id == PurchaseOrder.id)
            .where(PurchaseOrder.po_number.in_({po for po, _ in wanted}))
            .with_for_update(of=PurchaseOrderLine)
        ).tuples()
    }
    known = meters_by_serial(session, [f["serial_number"] for f in facts.values()])
    assets = statuses(session, [m.meter_id for m in known.values()])
    new_per_line: Counter[tuple[str, int]] = Counter()
    for n in sorted(facts):
        f = facts[n]
        key = (f["po_number"], f["po_line"])
        line = lines.get(key)
        make = str(rows[n].get("make") or "")
        meter = known.get(f["serial_number"])
        if line is None:
            result.reject(n, "po_line", "unknown_po_line", f"PO {key[0]} has no line {key[1]}")
        elif make.strip().lower() != line.make.lower():
            result.reject(
                n, "make", "make_differs_from_po", f"line {key[1]} of PO {key[0]} is for {line.make}"
            )
        elif meter is None or meter.meter_id not in assets:
            new_per_line[key] += 1
            if line.delivered + new_per_line[key] > line.quantity:
                result.reject(n, "po_line", "over_delivery",
                              f"line {key[1]} of PO {key[0]} has {line.quantity - line.delivered} left to deliver")  # fmt: skip
            else:
                f["line"] = line
                f["new"] = True
                continue
        else:
            f["line"] = line
            f["new"] = False
            continue
        facts.pop(n)


def _apply(
    session: Session,
    rows: list[Any],
    facts: dict[int, dict[str, Any]],
    actor: Actor,
    now: datetime,
    result: AssetImportResult,
) -> None:
    meters = meters_by_serial(session, [f["serial_number"] for f in facts.values()])
    for n in sorted(facts):
        f = facts[n]
        meter_id = meters[f["serial_number"]].meter_id
        line: PurchaseOrderLine = f["line"]
        if f["new"]:
            asset = move(
                session,
                meter_id,
                "in_store",
                now,
                actor,
                f"received on PO {f['po_number']} line {f['po_line']}",
            )
            line.delivered += 1
            result.created += 1
        else:
            asset = session.get_one(MeterAsset, meter_id)
            result.updated += 1
        asset.asset_group, asset.po_line_id = f["asset_group"], line.id
        asset.batch = f["batch"] or asset.batch
        asset.location = f["location"] or asset.location
    session.flush()


def take_rows(
    session: Session, rows: Any, actor: Actor, now: datetime, visible_orgs: set[int] | None
) -> AssetImportResult:
    """JSON rows or CSV rows alike: refused whole when no row could be taken."""
    if not isinstance(rows, list) or not rows:
        raise ImportRefused(422, "invalid_field", "'rows' must be a non-empty list.", field="rows")
    if len(rows) > MAX_ROWS:
        raise ImportRefused(413, "too_many_rows", f"At most {MAX_ROWS} rows per request.")
    result = import_assets(session, rows, actor, now, visible_orgs)
    if result.created + result.updated == 0:
        answer = result.as_dict()
        raise ImportRefused(
            422, "all_rows_rejected", "Every row was rejected; nothing was stored.",
            rejected=answer["rejected"], rejects=answer["rejects"],
        )  # fmt: skip
    return result


def take_asset_csv(
    session: Session, body: bytes, actor: Actor, now: datetime, visible_orgs: set[int] | None
) -> AssetImportResult:
    rows = read_rows(body, METER_REQUIRED + ("po_number", "po_line", "asset_group"),
                     METER_OPTIONAL + ("batch", "location"), MAX_ROWS)  # fmt: skip
    return take_rows(session, [_cells_to_values(r) if isinstance(r, dict) else r for r in rows], actor, now,
                     visible_orgs)  # fmt: skip
