"""Billing's collection data: POST /api/v1/billing/collections (idempotent, per-row rejects)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from service.api_errors import fail
from service.auth.guards import current_principal, require
from service.energy_audit import collections
from service.unit_of_work import unit_of_work

bp = Blueprint("energy_audit_api", __name__, url_prefix="/api/v1", description="Collection data for AT&C")


class CollectionRow(Schema):
    ivrs_number = fields.String(required=True)
    units_billed_kwh = fields.Decimal(required=True, as_string=True, metadata={"description": "3 decimals"})
    amount_billed_inr = fields.Decimal(required=True, as_string=True)
    amount_collected_inr = fields.Decimal(
        required=True, as_string=True, metadata={"description": "against this month's bill, arrears excluded"}
    )
    arrears_collected_inr = fields.Decimal(as_string=True, load_default="0.00")


class CollectionsCreate(Schema):
    period = fields.String(required=True, metadata={"description": "YYYY-MM"})
    rows = fields.List(fields.Nested(CollectionRow), required=True)


class CollectionReject(Schema):
    row = fields.Integer()
    field = fields.String()
    error = fields.String()
    message = fields.String()


class CollectionsResult(Schema):
    stored = fields.Integer()
    revised = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.Integer()
    rejects = fields.List(fields.Nested(CollectionReject))


@bp.route("/billing/collections", methods=["POST"])
@require("billing:write")
@bp.doc(requestBody={"content": {"application/json": {"schema": CollectionsCreate}}})
@bp.response(200, CollectionsResult)
def post_collections() -> Any:
    """Units and amounts billed and collected per consumer for a month. Re-sending the same rows
    changes nothing; a changed row is a revision; rows that cannot be read are rejected by row
    and field while the others are kept."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        fail(400, "invalid_json", "Send a JSON object (Content-Type: application/json).")
    try:
        period = collections.check_period(body.get("period"))
    except ValueError as exc:
        fail(422, "invalid_field", str(exc), field="period")
    rows = body.get("rows")
    if not isinstance(rows, list):
        fail(422, "invalid_field", "'rows' must be a list.", field="rows")
    if len(rows) > collections.MAX_ROWS:
        fail(413, "too_many_rows", f"At most {collections.MAX_ROWS} rows per request.", field="rows")
    with unit_of_work() as uow:
        result = collections.store(uow.session, current_principal(), period, rows)
        uow.commit()
    return result.as_dict()
