"""Org scoping: every listing shows what lies at or below the principal's org unit.

One helper, used by every listing and lookup: `scope_to_org(stmt, column, principal)`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.masterdata.models import OrgUnit

S = TypeVar("S", bound=Select[Any])


def visible_org_units(principal: Principal) -> Select[tuple[int]] | None:
    """Ids of the org units the principal may see, or None for the whole discom."""
    if principal.org_unit_id is None:
        return None
    root_path = select(OrgUnit.path).where(OrgUnit.id == principal.org_unit_id).scalar_subquery()
    return select(OrgUnit.id).where(OrgUnit.path.startswith(root_path, autoescape=False))


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
