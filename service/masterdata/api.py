"""Master-data exchange API for billing: bulk upsert, paginated listing, lookup by natural key."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from flask_smorest import Blueprint
from marshmallow import RAISE

from service.api_errors import fail
from service.auth.guards import current_principal, require
from service.extensions import db
from service.masterdata import hooks, listing, schemas
from service.masterdata.batch import MAX_ROWS, visible_org_ids
from service.masterdata.entities import ENTITIES
from service.masterdata.upsert import upsert
from service.unit_of_work import unit_of_work

bp = Blueprint(
    "masterdata_api",
    __name__,
    url_prefix="/api/v1/masterdata",
    description="Master data as billing sends it: org units, network, consumers, meters, installations.",
)

ENTITY_PARAM = {
    "in": "path",
    "name": "entity",
    "required": True,
    "schema": {"type": "string", "enum": list(ENTITIES)},
}
_ROW_REFS = [{"$ref": f"#/components/schemas/{spec.row_schema.__name__}"} for spec in ENTITIES.values()]
UPSERT_DOC: dict[str, Any] = {
    "parameters": [ENTITY_PARAM],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "array", "maxItems": MAX_ROWS, "items": {"oneOf": _ROW_REFS}}
            }
        },
    },
    "responses": {
        "400": {"description": "Not JSON, or not a list"},
        "401": {"description": "Missing, unknown or revoked API key"},
        "403": {"description": "The key lacks masterdata:write (or the user is not an admin)"},
        "404": {"description": "Unknown entity"},
        "413": {"description": f"More than {MAX_ROWS} rows; nothing stored"},
        "415": {"description": "Content-Type is not application/json"},
    },
}


REPLAYS_QUARANTINE = frozenset({"meters", "feeders", "dtrs"})


def register_schemas(api: Any) -> None:
    """Row schemas are documented as components (the request body is one of them per entity)."""
    for spec in ENTITIES.values():
        name = spec.row_schema.__name__
        if name not in api.spec.components.schemas:
            api.spec.components.schema(name, schema=spec.row_schema)


def _entity(entity: str) -> str:
    if entity not in ENTITIES:
        fail(404, "unknown_entity", f"Unknown entity {entity!r}.", entities=list(ENTITIES))
    return entity


def _rows_from_request() -> list[Any]:
    if request.mimetype != "application/json":
        fail(415, "unsupported_media_type", "Send the rows as 'Content-Type: application/json'.")
    try:
        body = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        fail(400, "malformed_json", "The body is not valid JSON.")
    if not isinstance(body, list):
        fail(400, "expected_list", "The body must be a JSON list of rows.")
    if len(body) > MAX_ROWS:
        fail(
            413,
            "too_many_rows",
            f"{len(body)} rows; at most {MAX_ROWS} a request. Nothing was stored.",
            limit=MAX_ROWS,
            received=len(body),
        )
    return body


@bp.route("/<entity>", methods=["POST"])
@bp.doc(**UPSERT_DOC)
@bp.response(200, schemas.UpsertResultRead)
@require("masterdata:write")
def upsert_rows(entity: str) -> dict[str, Any]:
    """Bulk upsert, idempotent by natural key; good rows are kept, bad ones listed in `rejected`."""
    _entity(entity)
    rows = _rows_from_request()
    principal = current_principal()
    with unit_of_work() as uow:
        result = upsert(uow.session, entity, rows, principal.actor, visible_org_ids(uow.session, principal))
        if entity in REPLAYS_QUARANTINE and result.created:
            # Readings that arrived before their meter (or feeder/DTR) wait in quarantine.
            hooks.subjects_created(uow.session)
        uow.commit()
    return result.as_dict()


@bp.route("/<entity>", methods=["GET"])
@bp.doc(parameters=[ENTITY_PARAM])
@require("masterdata:read")
@bp.arguments(schemas.ListQuery, location="query", unknown=RAISE)
def list_rows(args: dict[str, Any], entity: str) -> dict[str, Any]:
    """One page of the entity, scoped to the caller's org unit; filters by query parameter."""
    _entity(entity)
    given = {k: v for k, v in args.items() if k in request.args}
    given.setdefault("page", args["page"])
    given.setdefault("page_size", args["page_size"])
    try:
        page = listing.list_page(db.session(), entity, given, current_principal())
    except listing.UnknownFilter as exc:
        fail(400, "unknown_filter", str(exc))
    read = ENTITIES[entity].read_schema(many=True)
    return {**page, "items": read.dump(page["items"])}


@bp.route("/<entity>/<path:key>", methods=["GET"])
@bp.doc(parameters=[ENTITY_PARAM])
@require("masterdata:read")
def get_row(entity: str, key: str) -> dict[str, Any]:
    """One record by natural key (installations: `<meter serial>@<installed_at ISO 8601>`)."""
    _entity(entity)
    item = listing.get_one(db.session(), entity, key, current_principal())
    if item is None:
        fail(404, "not_found", f"No {ENTITIES[entity].audit_entity} {key!r}.")
    return ENTITIES[entity].read_schema().dump(item)
