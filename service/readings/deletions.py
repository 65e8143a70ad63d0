"""A sender's deletion (CIM `delete(d)` / `cancel(ed)` MeterReadings): stored values become revisions.

The value leaves the measurement table and is kept in `reading_revisions` with `new_value`
NULL and `new_extra.deleted`, so a deletion is never a silent drop and can be audited or
undone. An analyst's edited value stays in force (the deletion is kept as an unapplied
revision). Runs in the caller's transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from integrations.canonical import CanonicalBatch, Reject
from service.audit.log import Actor, record
from service.auth.scoping import visible_org_unit_ids
from service.masterdata import Meter
from service.readings.ingest import IngestResult, open_batch
from service.readings.models import IngestBatch

_DELETE = {
    "interval": (
        "interval_readings",
        "channel",
        "interval_end",
        "'{}'::jsonb",
        "jsonb_build_object('interval_minutes', t.interval_minutes)",
    ),
    "register": (
        "register_reads",
        "channel",
        "read_at",
        "jsonb_build_object('kind', t.kind, 'tod_zone', t.tod_zone)",
        "jsonb_build_object('occurred_at', t.occurred_at, 'reading_status', t.reading_status)",
    ),
}


def _statement(measure: str) -> str:
    table, channel, at, key, extra = _DELETE[measure]
    kind_match = " AND t.kind = d.kind AND t.tod_zone = d.tod_zone" if measure == "register" else ""
    kind_cols = ", unnest(CAST(:kinds AS text[])) AS kind, unnest(CAST(:zones AS int[])) AS tod_zone"
    return (
        f"WITH d AS (SELECT unnest(CAST(:meters AS int[])) AS meter_id,"  # noqa: S608 - fixed identifiers
        f" unnest(CAST(:channels AS text[])) AS channel, unnest(CAST(:ats AS timestamptz[])) AS at"
        f"{kind_cols if measure == 'register' else ''}),"
        f" hit AS (SELECT t.*, t.quality = 'edited' AS kept FROM {table} t JOIN d"
        f" ON t.meter_id = d.meter_id AND t.{channel} = d.channel AND t.{at} = d.at{kind_match}"
        f" WHERE t.meter_id = ANY(CAST(:meters AS int[])) AND t.{at} BETWEEN :first AND :last),"
        f" gone AS (DELETE FROM {table} t USING hit h WHERE NOT h.kept AND t.meter_id = h.meter_id"
        f" AND t.{channel} = h.{channel} AND t.{at} = h.{at}"
        f"{' AND t.kind = h.kind AND t.tod_zone = h.tod_zone' if measure == 'register' else ''}"
        f" AND t.{at} BETWEEN :first AND :last),"
        f" rev AS (INSERT INTO reading_revisions (measure, subject_id, channel, at, key, old_value,"
        f" old_quality, old_extra, old_source, old_batch_id, new_value, new_extra, new_source,"
        f" new_batch_id, applied)"
        f" SELECT '{measure}', t.meter_id, t.{channel}, t.{at}, {key}, t.value, t.quality, {extra},"
        f" t.source, t.batch_id, NULL, jsonb_build_object('deleted', true, 'verb', CAST(:verb AS text)),"
        f" :source, :batch_id, NOT t.kept FROM hit t)"
        f" SELECT meter_id, {channel}, {at}, kept FROM hit"
    )


def delete_values(
    session: Session, batch: CanonicalBatch, *, actor: Actor, verb: str, org_unit_id: int | None = None
) -> IngestResult:
    """Remove the batch's interval and register keys from the store, keeping each as a revision."""
    # "validated": nothing new for VEE to read.
    batch_id = open_batch(session, batch, actor, org_unit_id=org_unit_id, status="validated")
    result = IngestResult(batch_id=batch_id, rejects=[r.as_dict() for r in batch.rejects])
    serials = sorted(set(batch.intervals.meter.tolist()) | set(batch.registers.meter.tolist()))
    visible = visible_org_unit_ids(session, org_unit_id)
    ids = {
        serial: meter_id
        for serial, meter_id, org in session.execute(
            select(Meter.serial_number, Meter.id, Meter.org_unit_id).where(Meter.serial_number.in_(serials))
        ).tuples()
        # A sender scoped to an org unit deletes only its own meters' values (others: unknown).
        if visible is None or org in visible
    }
    parts: list[tuple[str, Any, Any, Any, list[str], list[int]]] = [
        ("interval", batch.intervals.meter, batch.intervals.channel, batch.intervals.interval_end, [], []),
        (
            "register",
            batch.registers.meter,
            batch.registers.channel,
            batch.registers.read_at,
            batch.registers.kind.tolist(),
            batch.registers.tod_zone.tolist(),
        ),
    ]
    for measure, meters, channels, ats, kinds, zones in parts:
        if len(meters) == 0:
            continue
        _delete_measure(
            session, result, measure, meters, channels, ats, kinds, zones, ids, verb, batch.source
        )
    session.execute(
        update(IngestBatch)
        .where(IngestBatch.id == batch_id)
        .values(counts=result.counts(), rejects=result.rejects, meter_ids=sorted(ids.values()))
    )
    record(session, actor, "delete", "ingest_batch", str(batch_id), None, {"verb": verb, **result.counts()})
    return result


def _delete_measure(
    session: Session,
    result: IngestResult,
    measure: str,
    meters: Any,
    channels: Any,
    ats: Any,
    kinds: list[str],
    zones: list[int],
    ids: dict[str, int],
    verb: str,
    source: str,
) -> None:
    wanted: dict[tuple[Any, ...], int] = {}
    meter_ids: list[int] = []
    stamps: list[datetime] = []
    for i, (serial, channel, at) in enumerate(
        zip(meters.tolist(), channels.tolist(), ats.tolist(), strict=True)
    ):
        stamp = at.replace(tzinfo=UTC)
        if serial not in ids:
            result.rejects.append(
                Reject(
                    f"{measure}s[{i}]",
                    "meter",
                    f"meter {serial!r} is not in master data (or not the sender's); nothing to delete",
                    serial,
                ).as_dict()
            )
            continue
        wanted[(ids[serial], channel, stamp, *((kinds[i], zones[i]) if kinds else ()))] = i
        meter_ids.append(ids[serial])
        stamps.append(stamp)
    if not wanted:
        return
    keys = list(wanted)
    params: dict[str, Any] = {
        "meters": [k[0] for k in keys],
        "channels": [k[1] for k in keys],
        "ats": [k[2] for k in keys],
        "first": min(stamps),
        "last": max(stamps),
        "verb": verb,
        "source": source,
        "batch_id": result.batch_id,
    }
    if kinds:
        params["kinds"] = [k[3] for k in keys]
        params["zones"] = [k[4] for k in keys]
    hits = session.execute(text(_statement(measure)), params).all()
    found = {(meter_id, channel, at) for meter_id, channel, at, _ in hits}
    edited = {(meter_id, channel, at) for meter_id, channel, at, was_kept in hits if was_kept}
    deleted = len(hits) - len(edited)
    for key, i in wanted.items():
        serial = meters[i]
        iso = f"{np.datetime64(key[2].replace(tzinfo=None), 's')}Z"
        if key[:3] not in found:
            reason = "no stored value to delete"
        elif key[:3] in edited:
            reason = "the stored value was edited by an analyst and stays; the deletion is kept as a revision"
        else:
            continue
        result.rejects.append(Reject(f"{measure}s[{i}]", "key", reason, serial, iso).as_dict())
    per = result.by_measure.setdefault(measure, {"stored": 0, "unchanged": 0, "revised": 0, "quarantined": 0})
    per["deleted"] = per.get("deleted", 0) + deleted
    result.revised += deleted
    per["revised"] += deleted
