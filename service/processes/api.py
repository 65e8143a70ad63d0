"""REST API: start processes, signed billing webhooks, complete work items, deliver messages."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from service.api_errors import fail
from service.auth import guards
from service.auth.scoping import can_see
from service.extensions import db
from service.processes import batch, queue, webhooks
from service.processes.library import workflows
from service.processes.runtime import ProcessConflict, StartRequest, deliver_message, start_instance
from service.unit_of_work import unit_of_work
from workflows.engine import EngineError

blp = Blueprint(
    "processes_api", __name__, url_prefix="/api/v1", description="Processes, work items and webhooks"
)


class ProcessStart(Schema):
    process_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    business_key = fields.String(load_default=None, validate=validate.Length(max=200))
    org_unit_code = fields.String(load_default=None)
    ivrs_number = fields.String(load_default=None)
    data = fields.Dict(keys=fields.String(), load_default=dict)


class BatchStartItem(Schema):
    business_key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    org_unit = fields.String(required=True, validate=validate.Length(min=1, max=100))
    data = fields.Dict(keys=fields.String(), load_default=dict)


class BatchStart(Schema):
    process = fields.String(required=True, validate=validate.Length(min=1, max=100))
    # Items are checked one by one in the view: a malformed item is rejected, the others start.
    items = fields.List(
        fields.Dict(),
        required=True,
        metadata={"description": "[{business_key, org_unit, data}], at most 1,000"},
    )


class WorkItemComplete(Schema):
    data = fields.Dict(keys=fields.String(), required=True)
    version = fields.Integer(load_default=None)


class MessageIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    correlation_key = fields.String(load_default=None, validate=validate.Length(max=200))
    payload = fields.Dict(keys=fields.String(), load_default=dict)


def _conflict(exc: ProcessConflict) -> Any:
    fail(409, exc.error, str(exc), **exc.details)


@blp.route("/processes", methods=["POST"])
@guards.require("workflows:write")
@blp.arguments(ProcessStart)
def start(args: dict[str, Any]) -> ResponseReturnValue:
    """Start a process instance (API key scope workflows:write)."""
    session = db.session()
    principal = guards.current_principal()
    if args["process_id"] not in workflows().library.current:
        fail(422, "unknown_process", f"Unknown process {args['process_id']!r}.", field="process_id")
    org_unit_id = webhooks.resolve_org_unit(session, args["org_unit_code"], args["ivrs_number"])
    if org_unit_id is None:
        fail(422, "unknown_org_unit", "Give a known org_unit_code or ivrs_number.", field="org_unit_code")
    if not can_see(session, principal, org_unit_id):
        fail(403, "outside_your_org_unit", "That org unit is outside your area.")
    with unit_of_work(session) as uow:
        try:
            instance = start_instance(
                session,
                StartRequest(args["process_id"], args["data"], args["business_key"], org_unit_id),
                principal.actor,
            )
        except ProcessConflict as exc:
            _conflict(exc)
        except EngineError as exc:
            fail(422, "invalid_data", str(exc), field="data")
        uow.commit()
    return jsonify({"instance_id": instance.id, "status": instance.status, "version": instance.version}), 201


@blp.route("/processes/batch", methods=["POST"])
@guards.require("workflows:write")
@blp.arguments(BatchStart)
def start_batch(args: dict[str, Any]) -> ResponseReturnValue:
    """Start up to 1,000 instances of one process in one transaction (scope workflows:write).

    Answers 200 with `started`, `rejected` [{index, business_key, reason, message}] and
    `instances` [{index, business_key, instance_id}]; more than 1,000 items: 413, nothing started."""
    items: list[dict[str, Any]] = args["items"]
    if len(items) > batch.MAX_BATCH:
        fail(413, "batch_too_large", f"At most {batch.MAX_BATCH} items per request.", items=len(items))
    if args["process"] not in workflows().library.current:
        fail(422, "unknown_process", f"Unknown process {args['process']!r}.", field="process")
    session = db.session()
    principal = guards.current_principal()
    schema = BatchStartItem()
    valid: list[tuple[int, batch.BatchItem]] = []
    malformed: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        errors = schema.validate(raw)
        if errors:
            key = raw.get("business_key")
            malformed.append(
                {"index": index, "business_key": key if isinstance(key, str) else None, "reason": "invalid_item",
                 "message": "The item does not match the schema.", "errors": errors}
            )  # fmt: skip
            continue
        item = schema.load(raw)
        valid.append((index, (item["business_key"], item["org_unit"], item["data"])))
    with unit_of_work(session) as uow:
        outcomes = batch.start_many(
            session,
            args["process"],
            [item for _, item in valid],
            principal.actor,
            may_start_in=lambda org_unit_id: can_see(session, principal, org_unit_id),
        )
        uow.commit()
    # Outcomes are by position among the valid items: report the request's index.
    body = batch.outcomes_body(
        [
            batch.ItemOutcome(valid[o.index][0], o.business_key, o.instance_id, o.reason, o.message)
            for o in outcomes
        ]
    )
    body["rejected"] = sorted(body["rejected"] + malformed, key=lambda r: int(r["index"]))
    return jsonify(body), 200


@blp.route("/webhooks/<system>", methods=["POST"])
def webhook(system: str) -> ResponseReturnValue:
    """Signed webhook: HMAC-SHA256 of `timestamp.body`, 5-minute window, Idempotency-Key."""
    secret = current_app.extensions["cmdms.config"].webhook_secrets.get(system)
    if not secret:
        fail(404, "unknown_system", f"No webhook secret is configured for {system!r}.")
    body = request.get_data(cache=False)
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            webhooks.check_signature(
                secret,
                request.headers.get("X-CMDMS-Timestamp"),
                request.headers.get("X-CMDMS-Signature"),
                body,
            )
            answer = webhooks.receive(session, system, request.headers.get("Idempotency-Key", ""), body)
        except webhooks.WebhookRefused as exc:
            fail(exc.status, exc.error, str(exc), **exc.details)
        except EngineError as exc:
            fail(422, "invalid_data", str(exc))
        uow.commit()
    return jsonify(answer.body), answer.status


@blp.route("/work-items/<int:item_id>/complete", methods=["POST"])
@guards.require("workflows:write", roles=("field_officer", "control_centre"))
@blp.arguments(WorkItemComplete)
def complete(args: dict[str, Any], item_id: int) -> ResponseReturnValue:
    """Complete a work item with its form data; `version` guards against concurrent changes."""
    session = db.session()
    with unit_of_work(session) as uow:
        try:
            item = queue.complete(session, guards.current_principal(), item_id, args["data"], args["version"])
        except LookupError:
            fail(404, "unknown_work_item", f"No work item {item_id} for you.")
        except queue.FormInvalid as exc:
            fail(
                422,
                "invalid_form",
                str(exc),
                errors=[{"field": e.field, "message": e.message} for e in exc.errors],
            )
        except ProcessConflict as exc:
            _conflict(exc)
        uow.commit()
    return jsonify({"work_item_id": item.id, "status": item.status}), 200


@blp.route("/process-messages", methods=["POST"])
@guards.require("workflows:write")
@blp.arguments(MessageIn)
def message(args: dict[str, Any]) -> ResponseReturnValue:
    """A message for a waiting instance (e.g. an HES callback by command id); kept if none waits yet."""
    session = db.session()
    principal = guards.current_principal()
    with unit_of_work(session) as uow:
        instance_id = deliver_message(
            session,
            args["name"],
            args["correlation_key"],
            args["payload"],
            principal.actor,
            sender_org_unit_id=principal.org_unit_id,
        )
        uow.commit()
    return jsonify({"delivered_to": instance_id, "kept": instance_id is None}), 202
