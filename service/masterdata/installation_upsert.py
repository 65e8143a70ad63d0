"""Bulk upsert of installations (a meter on a consumer, feeder or DTR), keyed by meter + installed_at.

Opening an installation for a meter that is still open elsewhere is a replacement: the old one
closes at the new `installed_at`, with the final reads the row gives (`previous_final_kwh`).
The meters' whole history is loaded once and the batch is played against it in time order.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, aliased

from service.audit.log import Actor, record_many
from service.masterdata.batch import UpsertResult, bulk_update, ids_by_code, lock_entity, validate_rows
from service.masterdata.entities import REFERENCE_NAMES, REFERENCES
from service.masterdata.hooks import installations_changed
from service.masterdata.models import Consumer, Dtr, Feeder, Installation, Meter
from service.masterdata.schemas import InstallationRow

TARGETS = {"ivrs_number": "consumer_id", "feeder_code": "feeder_id", "dtr_code": "dtr_id"}
READS = ("initial_kwh", "initial_kvah", "final_kwh", "final_kvah")


def installation_key(serial: str, installed_at: datetime) -> str:
    return f"{serial}@{installed_at.astimezone(UTC).isoformat()}"


def _raw_key(raw: Any) -> str | None:
    serial, at = raw.get("meter_serial"), raw.get("installed_at")
    return f"{serial}@{at}" if isinstance(serial, str) and isinstance(at, str) else serial


def _target(values: dict[str, Any]) -> tuple[str, str]:
    return next((f, values[f]) for f in TARGETS if values.get(f))


def _history(session: Session, meter_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    c, f, d = aliased(Consumer), aliased(Feeder), aliased(Dtr)
    stmt = (
        select(
            Installation.id,
            Installation.meter_id,
            Installation.installed_at,
            Installation.removed_at,
            *(getattr(Installation, r) for r in READS),
            c.ivrs_number,
            f.code.label("feeder_code"),
            d.code.label("dtr_code"),
        )
        .outerjoin(c, c.id == Installation.consumer_id)
        .outerjoin(f, f.id == Installation.feeder_id)
        .outerjoin(d, d.id == Installation.dtr_id)
        .where(Installation.meter_id.in_(meter_ids))
        .order_by(Installation.meter_id, Installation.installed_at)
    )
    history: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in session.execute(stmt).mappings():
        history[row["meter_id"]].append(dict(row))
    return history


def upsert_installations(
    session: Session, rows: list[Any], actor: Actor, visible_orgs: set[int] | None
) -> UpsertResult:
    result = UpsertResult("installations", len(rows))
    valid = validate_rows(
        rows,
        InstallationRow(),
        "installed_at",
        _raw_key,
        lambda d: installation_key(d["meter_serial"], d["installed_at"]),
        result,
    )
    if not valid:
        return result
    lock_entity(session, "installations")
    meters = {
        serial: (ident, org)
        for serial, ident, org in session.execute(
            select(Meter.serial_number, Meter.id, Meter.org_unit_id).where(
                Meter.serial_number.in_({d["meter_serial"] for _, d in valid})
            )
        )
    }
    known = {f: ids_by_code(session, REFERENCES[f], (d[f] for _, d in valid if d.get(f))) for f in TARGETS}
    history = _history(session, [m[0] for m in meters.values()])
    now = datetime.now(UTC)
    inserts: list[dict[str, Any]] = []
    updates: dict[int, dict[str, Any]] = {}
    audit_created: list[tuple[str, None, dict[str, Any]]] = []
    audit_updated: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    for index, data in sorted(valid, key=lambda item: (item[1]["meter_serial"], item[1]["installed_at"])):
        serial, at = data["meter_serial"], data["installed_at"]
        key = installation_key(serial, at)
        if serial not in meters:
            result.reject(index, key, "meter_serial", f"unknown meter {serial!r}")
            continue
        field, code = _target(data)
        if code not in known[field]:
            result.reject(index, key, field, f"unknown {REFERENCE_NAMES[field]} {code!r}")
            continue
        meter_id, meter_org = meters[serial]
        if visible_orgs is not None and meter_org not in visible_orgs:
            result.reject(index, key, "meter_serial", "outside your org unit")
            continue
        past = history[meter_id]
        same = next((h for h in past if h["installed_at"] == at), None)
        if same is not None:
            outcome = _update_existing(data, same, past, known[field][code], updates, now)
            if isinstance(outcome, str):
                result.reject(index, key, "removed_at", outcome)
            elif not outcome[1]:
                result.unchanged += 1
            else:
                audit_updated.append((key, *outcome))
                result.updated += 1
            continue
        open_one = next((h for h in past if h["removed_at"] is None), None)
        removed = data.get("removed_at")
        if (
            open_one is not None
            and open_one["installed_at"] > at
            and (removed is None or removed > open_one["installed_at"])
        ):
            result.reject(
                index,
                key,
                "installed_at",
                f"overlaps the meter's open installation since {open_one['installed_at'].isoformat()}",
            )
            continue
        new = {
            "meter_id": meter_id,
            "installed_at": at,
            "removed_at": removed,
            "initial_kwh": data.get("initial_kwh", 0),
            **{r: data.get(r) for r in READS[1:]},
            **dict.fromkeys(TARGETS.values()),
            TARGETS[field]: known[field][code],
        }
        if open_one is not None and open_one["installed_at"] < at:
            closing = {"removed_at": at}
            for read in ("final_kwh", "final_kvah"):
                if f"previous_{read}" in data:
                    closing[read] = data[f"previous_{read}"]
            before = {k: open_one[k] for k in closing}
            open_one.update(closing)
            updates.setdefault(open_one["id"], {"id": open_one["id"], "updated_at": now}).update(closing)
            old_key = installation_key(serial, open_one["installed_at"])
            audit_updated.append((old_key, before, {**closing, "replaced_by": key}))
        inserts.append(new)
        past.append({"id": None, **new, **{f: data.get(f) for f in TARGETS}})
        snapshot = {k: v for k, v in new.items() if k not in TARGETS.values() and k != "meter_id"}
        audit_created.append((key, None, {"meter_serial": serial, field: code, **snapshot}))
        result.created += 1

    # Closing updates first: one open installation per meter is a unique index.
    closes = [u for u in updates.values() if u.get("removed_at") is not None]
    bulk_update(session, Installation, closes)
    bulk_update(session, Installation, [u for u in updates.values() if u.get("removed_at") is None])
    if inserts:
        session.execute(insert(Installation), inserts)
    changed = [(i["meter_id"], i["installed_at"]) for i in inserts]
    changed += [(h["meter_id"], h["removed_at"]) for past in history.values() for h in past
                if h.get("id") in {u["id"] for u in closes}]  # fmt: skip
    if changed:
        installations_changed(session, sorted({m for m, _ in changed}), min(at for _, at in changed))
    record_many(session, actor, "create", "installation", audit_created)
    record_many(session, actor, "update", "installation", audit_updated)
    return result


def _update_existing(
    data: dict[str, Any],
    same: dict[str, Any],
    past: list[dict[str, Any]],
    target_id: int,
    updates: dict[int, dict[str, Any]],
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]] | str:
    """Apply a row to the installation it names; (before, after), {} if unchanged, or a refusal."""
    wanted = {k: data[k] for k in ("removed_at", *READS) if k in data}
    changed = {k: v for k, v in wanted.items() if same[k] != v}
    field, code = _target(data)
    if _target(same) != (field, code):
        changed.update(dict.fromkeys(TARGETS), **{field: code})
    if not changed:
        return {}, {}
    reopening = "removed_at" in changed and changed["removed_at"] is None
    if reopening and any(h["removed_at"] is None and h is not same for h in past):
        return "the meter already has an open installation"
    before = {k: same.get(k) for k in changed}
    same.update(changed)
    params = updates.setdefault(same["id"], {"id": same["id"], "updated_at": now})
    params.update({k: v for k, v in changed.items() if k not in TARGETS})
    if field in changed:
        params.update(dict.fromkeys(TARGETS.values()), **{TARGETS[field]: target_id})
    return before, changed
