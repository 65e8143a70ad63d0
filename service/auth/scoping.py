"""Org scoping: every listing shows what lies at or below the principal's org unit.

One helper, used by every listing and lookup: `scope_to_org(stmt, column, principal)`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.orgs import OrgUnit

S = TypeVar("S", bound=Select[Any])


def visible_org_units(principal: Principal) -> Select[tuple[int]] | None:
    """Ids of the org units the principal may see, or None for the whole discom."""
    if principal.org_unit_id is None:
        return None
    root_path = select(OrgUnit.path).where(OrgUnit.id == principal.org_unit_id).scalar_subquery()
    return select(OrgUnit.id).where(at_or_below(root_path))


def at_or_below(root_path: Any) -> ColumnElement[bool]:
    """Org units whose path starts with `root_path` (a value or a subquery).

    starts_with() compares characters, where LIKE would read '%' and '_' in a code as
    wildcards (a user at 'RT%' would see every sibling starting with 'RT').
    """
    return func.starts_with(OrgUnit.path, root_path)


def visible_org_unit_ids(session: Session, org_unit_id: int | None) -> set[int] | None:
    """The ids at or below `org_unit_id` (a scoped API key's reach), or None for the whole discom."""
    if org_unit_id is None:
        return None
    visible = visible_org_units(Principal(kind="system", name="", org_unit_id=org_unit_id))
    assert visible is not None
    return set(session.scalars(visible))


def scope_to_org(stmt: S, org_unit_column: Any, principal: Principal) -> S:
    visible = visible_org_units(principal)
    if visible is None:
        return stmt
    return stmt.where(org_unit_column.in_(visible))


def can_see(session: Session, principal: Principal, org_unit_id: int | None) -> bool:
    if principal.org_unit_id is None:
        return True
    if org_unit_id is None:
        return False
    visible = visible_org_units(principal)
    assert visible is not None
    return bool(session.scalar(select(visible.where(OrgUnit.id == org_unit_id).exists())))
