"""HTTP entry points of the adapters: each parses its format into a canonical batch and stores it.

One transaction per request: a 200 means committed. Unparseable bodies get 400 and store
nothing; parsed ones commit their good rows and report every refused row, and a message none of
whose rows got in is answered 422 (`all_rows_rejected`, or `empty`) with the same counts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

from flask import Flask, Response, current_app, jsonify, request
from flask_smorest import Blueprint

from integrations.amr.cdf import parse_cdf
from integrations.billing.scalar_reads import parse_scalar_csv, parse_scalar_json
from integrations.canonical import CanonicalBatch, ParseError
from integrations.cim.end_device_events import read_end_device_events
from integrations.cim.meter_readings import read_meter_readings
from integrations.hes.json_push import parse_events, parse_readings
from integrations.scada.energy import parse_energy_csv, parse_energy_json
from service.api_errors import fail
from service.audit.log import Actor
from service.auth.guards import current_principal, require
from service.readings import cim
from service.readings.amr_drop import check_nameplates
from service.readings.event_types import event_type_mapping
from service.readings.ingest import BatchRefused, IngestResult, ingest_batch
from service.unit_of_work import unit_of_work

bp = Blueprint(
    "adapters", __name__, url_prefix="/api/v1", description="Readings and events from outside systems"
)

JSON = ("application/json",)
XML = ("application/xml", "text/xml")
SOAP = ("application/soap+xml",)
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
    if cim.accepted(result) == 0:
        # Nothing got into the store: a 2xx would tell the sender its data is safe. The batch row
        # is kept (it is the record of what was refused); the body carries the same counts.
        if result.rejects:
            body |= {"error": "all_rows_rejected", "message": "Every row was rejected; no value was stored."}
        else:
            body |= {"error": "empty", "message": "The message carries no values; nothing was stored."}
        return jsonify(body), 422
    return jsonify(body), 200


def _refuse(exc: ParseError) -> NoReturn:
    status = 413 if exc.code == "too_large" else 400
    fail(status, "too_large" if status == 413 else "unparseable", exc.reason, reason_code=exc.code)


def _parse(parse: Callable[[bytes], T], data: bytes) -> T:
    try:
        return parse(data)
    except ParseError as exc:
        _refuse(exc)


def _store(parse: Parser, data: bytes, *, nameplates: bool = False) -> Any:
    return _store_batch(_parse(parse, data), nameplates=nameplates)


def _store_batch(batch: CanonicalBatch, *, nameplates: bool = False) -> Any:
    principal = current_principal()
    try:
        with unit_of_work() as uow:
            if nameplates:
                batch.rejects.extend(check_nameplates(uow.session, batch.nameplates))
            result = ingest_batch(
                uow.session,
                batch,
                actor=Actor(principal.kind, principal.name),
                org_unit_id=principal.org_unit_id,
            )
            uow.commit()
    except BatchRefused as exc:
        fail(422, exc.error, str(exc), field=exc.field, **exc.details)
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


def _wants_json() -> bool:
    """JSON callers (Accept: application/json over XML) keep the JSON answer of the other adapters."""
    accept = request.accept_mimetypes
    return accept.quality("application/json") > max(
        accept.quality("application/xml"), accept.quality("text/xml"), accept.quality("application/soap+xml")
    )


def _soap_version(data: bytes) -> str | None:
    """Which SOAP a request we could not parse came in, to answer it in the same envelope."""
    head = data[:2048]
    if b"http://www.w3.org/2003/05/soap-envelope" in head or _media_type() == "application/soap+xml":
        return "1.2"
    return "1.1" if b"http://schemas.xmlsoap.org/soap/envelope/" in head else None


def _xml(answer: cim.Answer) -> Any:
    return Response(answer.body, status=answer.status, mimetype=answer.media)


def _cim(noun: str, read: Callable[..., Any], verb: str | None) -> Any:
    data = _body(XML + SOAP)
    now = datetime.now(UTC)
    wants_json = _wants_json()
    options: dict[str, Any] = {"default_verb": verb}
    if noun == "EndDeviceEvents":
        options["mapping"] = event_type_mapping(current_app.extensions["cmdms.config"])
    try:
        message = read(data, **options)
    except ParseError as exc:
        if wants_json or exc.code == "too_large":
            _refuse(exc)
        answer = cim.reply(
            noun, None, now=now, refusal=exc.reason, refusal_code=exc.code, soap=_soap_version(data)
        )
        return _xml(answer)
    principal = current_principal()
    if message.header.source is None:
        message.batch.source = f"cim:{principal.name}"  # a bare payload names no Source
    try:
        with unit_of_work() as uow:
            result = cim.apply(
                uow.session,
                message.header,
                message.batch,
                actor=Actor(principal.kind, principal.name),
                qualities=getattr(message, "qualities", None),
                org_unit_id=principal.org_unit_id,
            )
            uow.commit()
    except cim.Refused as exc:
        if wants_json:
            fail(400, "unsupported_verb", exc.reason)
        return _xml(
            cim.reply(noun, message.header, now=now, refusal=exc.reason, refusal_code="unsupported_verb")
        )
    except BatchRefused as exc:
        if wants_json:
            fail(422, exc.error, str(exc), field=exc.field, **exc.details)
        return _xml(cim.reply(noun, message.header, now=now, refusal=str(exc), refusal_code=exc.error))
    answer = cim.reply(noun, message.header, now=now, result=result)
    if wants_json:
        body, _ = _answer(result, message.batch)
        return body, answer.status
    return _xml(answer)


@bp.route("/cim/meter-readings", methods=["POST"])
@bp.route("/cim/meter-readings/<verb>", methods=["POST"])
@require("readings:write")
def cim_meter_readings(verb: str | None = None) -> Any:
    """IEC 61968-9 MeterReadings (XML): message envelope, WSDL wrapper, SOAP 1.1/1.2, or bare
    (then the verb is the path's last part, `created` if none). Answers a 61968-100 ResponseMessage."""
    return _cim("MeterReadings", read_meter_readings, verb)


@bp.route("/cim/end-device-events", methods=["POST"])
@bp.route("/cim/end-device-events/<verb>", methods=["POST"])
@require("events:write")
def cim_end_device_events(verb: str | None = None) -> Any:
    """IEC 61968-9 EndDeviceEvents (XML), in the same envelopes; unmapped event types are stored."""
    return _cim("EndDeviceEvents", read_end_device_events, verb)


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
    from service.readings import demo

    csrf.exempt(bp)
    api.register_blueprint(bp)
    register_step("readings", demo.seed_readings)
