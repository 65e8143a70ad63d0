"""Set-based bulk upsert of master data, idempotent by natural key.

One query loads the current state of every key in the request, the diff happens in Python,
then one bulk INSERT, one bulk UPDATE, the link changes and one audit insert per action.
A row that changes nothing writes nothing, so a repeated sync is cheap and leaves no trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, insert, select
from sqlalchemy.orm import Session, aliased

from service.audit.log import Actor, record_many
from service.masterdata.batch import (
    UpsertResult,
    bulk_update,
    ids_by_code,
    lock_entity,
    string_key,
    validate_rows,
)
from service.masterdata.entities import ENTITIES, REFERENCE_NAMES, REFERENCES, EntitySpec
from service.masterdata.models import OrgUnit

Parent = tuple[str, str] | None  # (row field, code) of the open link's parent


def upsert(
    session: Session, entity: str, rows: list[Any], actor: Actor, visible_orgs: set[int] | None
) -> UpsertResult:
    """Upsert `rows` of `entity`; the caller commits. `visible_orgs` None = the whole discom."""
    if entity == "org-units":
        from service.masterdata.org_unit_upsert import upsert_org_units

        return upsert_org_units(session, rows, actor, visible_orgs)
    if entity == "installations":
        from service.masterdata.installation_upsert import upsert_installations

        return upsert_installations(session, rows, actor, visible_orgs)
    if entity in ("solar-plants", "net-metering-agreements"):
        from service.masterdata import net_metering

        upsert_net = (
            net_metering.upsert_plants if entity == "solar-plants" else net_metering.upsert_agreements
        )
        return upsert_net(session, rows, actor, visible_orgs)
    return _upsert_entity(session, ENTITIES[entity], rows, actor, visible_orgs)


def _current_state(session: Session, spec: EntitySpec, keys: list[str]) -> dict[str, dict[str, Any]]:
    """Each existing key's attributes (org unit and link parents as codes), in one query."""
    model = spec.model
    columns: list[Any] = [model.id.label("id"), model.org_unit_id.label("org_unit_id")]
    columns += [
        OrgUnit.code.label(name) if name == "org_unit_code" else getattr(model, name).label(name)
        for name in spec.attributes
    ]
    stmt = select(*columns).join(OrgUnit, OrgUnit.id == model.org_unit_id)
    if spec.link is not None:
        link = spec.link.model
        stmt = stmt.outerjoin(
            link, and_(getattr(link, spec.link.child_column) == model.id, link.valid_to.is_(None))
        )
        stmt = stmt.add_columns(link.id.label("_link_id"), link.valid_from.label("_link_valid_from"))
        for parent in spec.link.parents:
            alias = aliased(parent.model)
            stmt = stmt.outerjoin(alias, alias.id == getattr(link, parent.column))
            stmt = stmt.add_columns(alias.code.label(parent.field))
    stmt = stmt.where(getattr(model, spec.key).in_(keys))
    key_col = getattr(model, spec.key).label("_key")
    return {row["_key"]: dict(row) for row in session.execute(stmt.add_columns(key_col)).mappings()}


def _parent_of(spec: EntitySpec, values: Mapping[str, Any]) -> Parent:
    assert spec.link is not None
    for parent in spec.link.parents:
        if values.get(parent.field):
            return parent.field, values[parent.field]
    return None


def _parent_codes(spec: EntitySpec, parent: Parent) -> dict[str, str | None]:
    assert spec.link is not None
    return {p.field: (parent[1] if parent and parent[0] == p.field else None) for p in spec.link.parents}


def _table_values(values: Mapping[str, Any], org_ids: Mapping[str, int]) -> dict[str, Any]:
    out = {k: v for k, v in values.items() if k != "org_unit_code"}
    if "org_unit_code" in values:
        out["org_unit_id"] = org_ids[values["org_unit_code"]]
    return out


def _upsert_entity(
    session: Session, spec: EntitySpec, rows: list[Any], actor: Actor, visible_orgs: set[int] | None
) -> UpsertResult:
    result = UpsertResult(spec.name, len(rows))
    valid = validate_rows(
        rows, spec.row_schema(), spec.key, string_key(spec.key), lambda d: d[spec.key], result
    )
    if not valid:
        return result
    lock_entity(session, spec.name)
    ref_fields = ["org_unit_code", *(p.field for p in (spec.link.parents if spec.link else ()))]
    known = {f: ids_by_code(session, REFERENCES[f], (d[f] for _, d in valid if d.get(f))) for f in ref_fields}
    current_by_key = _current_state(session, spec, [d[spec.key] for _, d in valid])
    now = datetime.now(UTC)

    creates: list[tuple[str, dict[str, Any], Parent, datetime]] = []
    updates: list[dict[str, Any]] = []
    link_closes: list[dict[str, Any]] = []
    link_opens: list[tuple[str, Parent, datetime]] = []
    audit_created: list[tuple[str, None, dict[str, Any]]] = []
    audit_updated: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    for index, data in valid:
        key = data[spec.key]
        unknown = next((f for f in ref_fields if data.get(f) and data[f] not in known[f]), None)
        if unknown is not None:
            result.reject(index, key, unknown, f"unknown {REFERENCE_NAMES[unknown]} {data[unknown]!r}")
            continue
        current = current_by_key.get(key)
        if visible_orgs is not None:
            if known["org_unit_code"][data["org_unit_code"]] not in visible_orgs:
                result.reject(index, key, "org_unit_code", "outside your org unit")
                continue
            if current is not None and current["org_unit_id"] not in visible_orgs:
                result.reject(index, key, spec.key, "belongs to an org unit outside yours")
                continue
        values = {a: data[a] for a in spec.attributes if a in data}
        effective_from: datetime = data.get("effective_from") or now
        wanted: Parent = _parent_of(spec, data) if spec.link else None
        held: Parent = _parent_of(spec, current) if spec.link and current else None
        link_change = wanted is not None and wanted != held
        since = current["_link_valid_from"] if link_change and current is not None else None
        if since is not None and effective_from <= since:
            reason = f"must be after the current link's start {since.isoformat()}"
            result.reject(index, key, "effective_from", reason)
            continue
        after_link = {**_parent_codes(spec, wanted), "effective_from": effective_from} if link_change else {}

        if current is None:
            full = {**spec.defaults, **values}
            creates.append((key, full, wanted, effective_from))
            audit_created.append((key, None, {spec.key: key, **full, **after_link}))
            result.created += 1
            continue
        changed = {a: v for a, v in values.items() if current[a] != v}
        if not changed and not link_change:
            result.unchanged += 1
            continue
        before = {a: current[a] for a in changed}
        if link_change:
            before.update(_parent_codes(spec, held))
            if current["_link_id"] is not None:
                link_closes.append({"id": current["_link_id"], "valid_to": effective_from})
            link_opens.append((key, wanted, effective_from))
        updates.append(
            {"id": current["id"], **_table_values(changed, known["org_unit_code"]), "updated_at": now}
        )
        audit_updated.append((key, before, {**changed, **after_link}))
        result.updated += 1

    ids = {key: current["id"] for key, current in current_by_key.items()}
    if creates:
        model = spec.model
        stmt = insert(model).returning(model.id, getattr(model, spec.key), sort_by_parameter_order=True)
        params = [
            {spec.key: key, **_table_values(full, known["org_unit_code"])} for key, full, _, _ in creates
        ]
        ids.update({key: ident for ident, key in session.execute(stmt, params)})
        link_opens += [(key, parent, since) for key, _, parent, since in creates if parent is not None]
    bulk_update(session, spec.model, updates)
    if spec.link is not None:
        _apply_links(session, spec, ids, known, link_closes, link_opens)
    record_many(session, actor, "create", spec.audit_entity, audit_created)
    record_many(session, actor, "update", spec.audit_entity, audit_updated)
    return result


def _apply_links(
    session: Session,
    spec: EntitySpec,
    ids: Mapping[str, int],
    known: Mapping[str, Mapping[str, int]],
    closes: list[dict[str, Any]],
    opens: list[tuple[str, Parent, datetime]],
) -> None:
    assert spec.link is not None
    # Close before opening: one open link per child is a unique index.
    bulk_update(session, spec.link.model, closes)
    if not opens:
        return
    columns = {p.field: p.column for p in spec.link.parents}
    rows = []
    for key, parent, since in opens:
        assert parent is not None
        row: dict[str, Any] = {spec.link.child_column: ids[key], "valid_from": since}
        row.update(dict.fromkeys(columns.values()))
        row[columns[parent[0]]] = known[parent[0]][parent[1]]
        rows.append(row)
    session.execute(insert(spec.link.model), rows)
