"""Replacements reported by billing and URJAS: `POST /api/v1/replacements` (one, JSON) and
`POST /api/v1/replacements/import` (a CSV file, rows checked one by one)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint
from sqlalchemy import select

from service.api_errors import fail
from service.assets import asset_import, csv_rows, intake, purchase_orders, smart
from service.assets.models import MeterReplacement
from service.auth.guards import current_principal, require
from service.auth.scoping import visible_org_unit_ids
from service.extensions import db
from service.unit_of_work import unit_of_work

bp = Blueprint("assets_api", __name__, url_prefix="/api/v1", description="Meter assets and replacements")


def _now() -> datetime:
    clock = current_app.extensions["cmdms.ports"].get("clock")
    return clock() if clock is not None else datetime.now(UTC)


def _visible(session: Any) -> set[int] | None:
    return visible_org_unit_ids(session, current_principal().org_unit_id)


@bp.route("/replacements", methods=["POST"])
@require("assets:write", roles=("field_officer",))
def post_replacement() -> Any:
    """One replacement: {"kind": "scalar" | "smart", "ivrs_number", "old_meter_serial", "new_meter_serial",
    "replaced_at" (ISO 8601 with offset), "final_kwh", "initial_kwh", "photo_ref"?}. 201 with
    the replacement id when it was recorded (scalar), 202 when its process started (smart: HES
    commissioning read, billing's approval), 200 with `duplicate` when it already was, 422 with
    every reason (field, error, message) otherwise, storing nothing."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        fail(400, "invalid_json", "Send a JSON object describing one replacement.")
    loaded = intake.load_report(body)
    if isinstance(loaded, list):
        fail(422, "invalid_replacement", loaded[0].message, field=loaded[0].field, reasons=_reasons(loaded))
    report, kind = loaded
    session = db.session()
    with unit_of_work(session) as uow:
        if kind == "smart":
            outcome = smart.start_smart_replacement(
                session, report, current_principal().actor, _now(), _visible(session)
            )
        else:
            outcome = intake.apply_one(session, report, current_principal().actor, _now(), _visible(session))
        if not outcome.ok:
            first = outcome.refusals[0]
            fail(422, first.error, first.message, field=first.field, reasons=_reasons(outcome.refusals))
        uow.commit()
    state = session.scalar(
        select(MeterReplacement.state).where(MeterReplacement.id == outcome.replacement_id)
    )
    answer = {"replacement_id": outcome.replacement_id, "duplicate": outcome.duplicate, "state": state}
    return answer, 200 if outcome.duplicate else (201 if state == "done" else 202)


def _reasons(refusals: list[Any]) -> list[dict[str, str]]:
    return [{"field": r.field, "error": r.error, "message": r.message} for r in refusals]


@bp.route("/replacements/import", methods=["POST"])
@require("assets:write")
def post_replacements_csv() -> Any:
    """A CSV of scalar -> scalar replacements (URJAS or billing), as the body (text/csv) or as the
    multipart field `file`. 200 with accepted/duplicate rows and every rejected row's reason;
    422 when every row is rejected (nothing stored); 413 past the size or row limit."""
    upload = request.files.get("file")
    body = upload.read(csv_rows.MAX_BYTES + 1) if upload is not None else request.get_data(cache=False)
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            result = intake.take_csv(session, body, current_principal().actor, _now(), _visible(session))
        except csv_rows.ImportRefused as exc:
            fail(exc.status, exc.error, str(exc), **exc.details)
        uow.commit()
    return result.as_dict()


@bp.route("/purchase-orders", methods=["POST"])
@require("assets:write")
def post_purchase_order() -> Any:
    """A PO: {"po_number", "vendor", "po_date", "org_unit_code", "lines": [{"line_no", "make",
    "model"?, "meter_class", "asset_group" (WC, LTCT, LT, HT), "quantity", "warranty_months"?}]}.
    201 stored; 200 the same PO again; 409 a different PO under a stored number."""
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            outcome = purchase_orders.create_purchase_order(
                session, request.get_json(silent=True), current_principal().actor, _visible(session)
            )
        except purchase_orders.PoRefused as exc:
            fail(exc.status, exc.error, str(exc), field=exc.field)
        uow.commit()
    return {"po_id": outcome.po_id, "duplicate": outcome.duplicate}, 200 if outcome.duplicate else 201


@bp.route("/purchase-orders/<po_number>", methods=["GET"])
@require("assets:read")
def get_purchase_order(po_number: str) -> Any:
    """The PO's lines with ordered, delivered and outstanding quantities."""
    session = db.session()
    lines = purchase_orders.po_lines(session, po_number, _visible(session))
    if lines is None:
        fail(404, "not_found", "No purchase order has this number.")
    return {"po_number": po_number, "lines": lines}


@bp.route("/assets/import", methods=["POST"])
@require("assets:write")
def post_assets() -> Any:
    """URJAS assets: JSON {"rows": [...]} or a CSV (text/csv body or multipart `file`), each row a
    meter's nameplate (master data's meter fields) plus po_number, po_line, asset_group, batch?,
    location?. 200 with created/updated and every rejected row's reason; 422 when none was taken."""
    session = db.session()
    actor, now = current_principal().actor, _now()
    with unit_of_work(session) as uow:
        try:
            if request.is_json:
                body = request.get_json(silent=True)
                rows = body.get("rows") if isinstance(body, dict) else None
                result = asset_import.take_rows(session, rows, actor, now, _visible(session))
            else:
                upload = request.files.get("file")
                data = (
                    upload.read(csv_rows.MAX_BYTES + 1)
                    if upload is not None
                    else request.get_data(cache=False)
                )
                result = asset_import.take_asset_csv(session, data, actor, now, _visible(session))
        except csv_rows.ImportRefused as exc:
            fail(exc.status, exc.error, str(exc), **exc.details)
        uow.commit()
    return result.as_dict()
