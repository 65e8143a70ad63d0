"""HTTP entry points of the adapters: each parses its format into a canonical batch and stores it.

One transaction per request: a 200 means committed. Unparseable bodies get 400 and store
nothing; parsed ones commit their good rows and report every refused row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, jsonify, request
from flask_smorest import Blueprint

from integrations.amr.cdf import parse_cdf
from integrations.billing.scalar_reads import parse_scalar_csv, parse_scalar_json
from integrations.canonical import CanonicalBatch, ParseError
from integrations.cim.end_device_events import read_end_device_events
from integrations.cim.envelope import Header
from integrations.cim.meter_readings import read_meter_readings
from integrations.hes.json_push import parse_events, parse_readings
from integrations.scada.energy import parse_energy_csv, parse_energy_json
from service.api_errors import fail
from service.audit.log import Actor
from service.auth.guards import current_principal, require
from service.extensions import db
from service.readings.amr_drop import check_nameplates
from service.readings.ingest import IngestResult, ingest_batch
from service.readings.usage_points import resolve_usage_points

bp = Blueprint(
    "adapters", __name__, url_prefix="/api/v1", description="Readings and events from outside systems"
)

JSON = ("application/json",)
XML = ("application/xml", "text/xml")
SOAP = ("application/soap+xml",)
STORING_ACTIONS = ("create", "change", "reply")
T = TypeVar("T")
CSV = ("text/csv",)
Parser = Callable[[bytes], CanonicalBatch]


def _media_type() -> str:
    return (request.mimetype or "").lower()


def _body(allowed: tuple[str, ...]) -> bytes:
    media = _media_type()
    if media not in allowed:
        fail(
            415,
            "unsupported_media_type",
            f"Content-Type {media or '(none)'!r} is not accepted here; send one of {', '.join(allowed)}.",
            accepted=list(allowed),
        )
    limit = request.max_content_length
    if request.content_length is not None and limit is not None and request.content_length > limit:
        fail(413, "too_large", f"The body is over the limit of {limit} bytes.", limit=limit)
    return request.get_data(cache=False)


def _answer(result: IngestResult, batch: CanonicalBatch) -> Any:
    body = {
        "batch_id": result.batch_id,
        "message_id": batch.message_id,
        "stored": result.stored,
        "unchanged": result.unchanged,
        "revised": result.revised,
        "quarantined": result.quarantined,
        "rejected": result.rejects,
        "by_measure": result.by_measure,
    }
    return jsonify(body), 200


def _parse(parse: Callable[[bytes], T], data: bytes) -> T:
    try:
        return parse(data)
    except ParseError as exc:
        status = 413 if exc.code == "too_large" else 400
        fail(status, "too_large" if status == 413 else "unparseable", exc.reason, reason_code=exc.code)
        raise  # fail() raises; this keeps type checkers sure of it


def _store(parse: Parser, data: bytes, *, nameplates: bool = False) -> Any:
    return _store_batch(_parse(parse, data), nameplates=nameplates)


def _store_batch(batch: CanonicalBatch, *, nameplates: bool = False, usage_points: bool = False) -> Any:
    principal = current_principal()
    session = db.session()
    try:
        if nameplates:
            batch.rejects.extend(check_nameplates(session, batch.nameplates))
        if usage_points:
            resolve_usage_points(session, batch)
        result = ingest_batch(
            session, batch, actor=Actor(principal.kind, principal.name), org_unit_id=principal.org_unit_id
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    return _answer(result, batch)


@bp.route("/hes/readings", methods=["POST"])
@require("readings:write")
def hes_readings() -> Any:
    """HES push: block load, daily, billing and instantaneous profiles of many meters (JSON)."""
    return _store(parse_readings, _body(JSON))


@bp.route("/hes/events", methods=["POST"])
@require("events:write")
def hes_events() -> Any:
    """HES push: meter events by IS 15959 code (JSON)."""
    return _store(parse_events, _body(JSON))


def _cim(header: Header, batch: CanonicalBatch) -> Any:
    if header.action not in STORING_ACTIONS:
        fail(
            400,
            "unsupported_verb",
            f"Verb {header.verb!r} ({header.action}) is not handled for {header.noun} yet; "
            f"send one of create(d), change(d), reply.",
        )
    return _store_batch(batch, usage_points=True)


@bp.route("/cim/meter-readings", methods=["POST"])
@require("readings:write")
def cim_meter_readings() -> Any:
    """IEC 61968-9 MeterReadings (XML): message envelope, WSDL wrapper, SOAP 1.1/1.2 or bare."""
    message = _parse(read_meter_readings, _body(XML + SOAP))
    return _cim(message.header, message.batch)


@bp.route("/cim/end-device-events", methods=["POST"])
@require("events:write")
def cim_end_device_events() -> Any:
    """IEC 61968-9 EndDeviceEvents (XML): message envelope, WSDL wrapper, SOAP 1.1/1.2 or bare."""
    message = _parse(read_end_device_events, _body(XML + SOAP))
    return _cim(message.header, message.batch)


@bp.route("/amr/cdf", methods=["POST"])
@require("readings:write")
def amr_cdf() -> Any:
    """One MIOS CDF file as the body (XML); the nameplate is checked against master data."""
    data = _body((*XML, "application/octet-stream"))
    name = request.args.get("file_name") or request.headers.get("X-File-Name")
    return _store(lambda body: parse_cdf(body, file_name=name), data, nameplates=True)


@bp.route("/scada/energy", methods=["POST"])
@require("readings:write")
def scada_energy() -> Any:
    """Feeder and DT energy from SCADA / SHMS / MDAS (JSON or CSV by Content-Type)."""
    data = _body(JSON + CSV)
    source = request.args.get("source", "scada")
    if _media_type() in CSV:
        return _store(lambda body: parse_energy_csv(body, source=source), data)
    return _store(parse_energy_json, data)


@bp.route("/billing/scalar-reads", methods=["POST"])
@require("readings:write")
def scalar_reads() -> Any:
    """Monthly scalar reads from billing or the reading app (JSON or CSV by Content-Type)."""
    data = _body(JSON + CSV)
    source = request.args.get("source", "billing")
    if _media_type() in CSV:
        return _store(lambda body: parse_scalar_csv(body, source=source), data)
    return _store(parse_scalar_json, data)


def init_app(app: Flask) -> None:
    from service.demo.seed import register_step
    from service.extensions import api, csrf
    from service.readings import amr_drop, demo

    csrf.exempt(bp)
    api.register_blueprint(bp)
    amr_drop.init_app(app)
    register_step("readings", demo.seed_readings)
