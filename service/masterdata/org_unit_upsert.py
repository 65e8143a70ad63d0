"""Bulk upsert of the org hierarchy, keeping each unit's materialised path.

A discom has at most a few thousand units, so the whole tree is loaded; rows are applied level
by level (discom first) so a request may carry a parent and its children together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from service.audit.log import Actor, record_many
from service.masterdata.batch import UpsertResult, lock_entity, string_key, validate_rows
from service.masterdata.models import ORG_LEVELS, OrgUnit
from service.masterdata.schemas import OrgUnitRow

RANK = {level: i for i, level in enumerate(ORG_LEVELS)}


def upsert_org_units(
    session: Session, rows: list[Any], actor: Actor, visible_orgs: set[int] | None
) -> UpsertResult:
    result = UpsertResult("org-units", len(rows))
    valid = validate_rows(rows, OrgUnitRow(), "code", string_key("code"), lambda d: d["code"], result)
    if not valid:
        return result
    lock_entity(session, "org-units")
    units: dict[str, dict[str, Any]] = {
        row["code"]: dict(row)
        for row in session.execute(
            select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.level, OrgUnit.path, OrgUnit.parent_id)
        ).mappings()
    }
    code_by_id = {u["id"]: code for code, u in units.items()}
    now = datetime.now(UTC)
    created: list[tuple[str, None, dict[str, Any]]] = []
    updated: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    for index, data in sorted(valid, key=lambda item: RANK[item[1]["level"]]):
        code, parent_code = data["code"], data.get("parent_code")
        parent = units.get(parent_code) if parent_code else None
        current = units.get(code)
        reason = _refusal(data, parent, current, visible_orgs)
        if reason is not None:
            result.reject(index, code, reason[0], reason[1])
            continue
        path = (parent["path"] if parent else "/") + code + "/"
        wanted = {"name": data["name"], "level": data["level"], "parent_code": parent_code}
        if current is None:
            (ident,) = session.execute(
                insert(OrgUnit).returning(OrgUnit.id),
                [dict(code=code, name=data["name"], level=data["level"], parent_id=_id(parent), path=path)],
            ).one()
            units[code] = {"id": ident, "code": code, **wanted, "path": path, "parent_id": _id(parent)}
            code_by_id[ident] = code
            created.append((code, None, {"code": code, **wanted, "path": path}))
            result.created += 1
            continue
        held = {
            "name": current["name"],
            "level": current["level"],
            "parent_code": code_by_id.get(current["parent_id"]),
        }
        changed = {k: v for k, v in wanted.items() if held[k] != v}
        if not changed:
            result.unchanged += 1
            continue
        session.execute(
            update(OrgUnit)
            .where(OrgUnit.id == current["id"])
            .values(name=data["name"], level=data["level"], parent_id=_id(parent), path=path, updated_at=now)
        )
        if path != current["path"]:
            _move_descendants(session, units, current["path"], path)
        current.update(name=data["name"], level=data["level"], parent_id=_id(parent), path=path)
        updated.append((code, {k: held[k] for k in changed}, changed))
        result.updated += 1

    record_many(session, actor, "create", "org_unit", created)
    record_many(session, actor, "update", "org_unit", updated)
    return result


def _id(unit: dict[str, Any] | None) -> int | None:
    return unit["id"] if unit else None


def _refusal(
    data: dict[str, Any],
    parent: dict[str, Any] | None,
    current: dict[str, Any] | None,
    visible_orgs: set[int] | None,
) -> tuple[str, str] | None:
    parent_code = data.get("parent_code")
    if parent_code and parent is None:
        return "parent_code", f"unknown org unit {parent_code!r}"
    if parent is not None:
        if RANK[parent["level"]] >= RANK[data["level"]]:
            return "parent_code", f"a {data['level']} cannot sit under a {parent['level']}"
        if current is not None and parent["path"].startswith(current["path"]):
            return "parent_code", "would place the unit under itself"
    if visible_orgs is not None:
        if parent is None or parent["id"] not in visible_orgs:
            return "parent_code", "outside your org unit"
        if current is not None and current["id"] not in visible_orgs:
            return "code", "belongs to an org unit outside yours"
    return None


def _move_descendants(session: Session, units: dict[str, dict[str, Any]], old: str, new: str) -> None:
    session.execute(
        update(OrgUnit)
        .where(OrgUnit.path.startswith(old, autoescape=True), OrgUnit.path != old)
        .values(path=new + func.substr(OrgUnit.path, len(old) + 1))
    )
    for unit in units.values():
        if unit["path"].startswith(old) and unit["path"] != old:
            unit["path"] = new + unit["path"][len(old) :]
