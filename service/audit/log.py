"""Writing audit entries inside the caller's transaction (the caller commits)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.audit.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    kind: str  # user | system | cli
    name: str


CLI_ACTOR = Actor("cli", "cli")


def jsonable(value: Any) -> Any:
    """Audit snapshots are JSON: dates as ISO strings, Decimals as strings (never floats)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


AUDIT_COLUMNS = ("actor_kind", "actor", "action", "entity", "entity_key", "before", "after")


def insert_from(select_sql: str) -> str:
    """The set-based entry for one-statement writers: an INSERT of audit rows from `select_sql`
    (a SELECT of the AUDIT_COLUMNS, in that order), for use as a data-modifying CTE."""
    return f"INSERT INTO audit_log ({', '.join(AUDIT_COLUMNS)})\n    {select_sql.strip()}"


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_key: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    record_many(session, actor, action, entity, [(entity_key, before, after)])


def record_many(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    changes: Iterable[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]],
) -> int:
    rows = [
        {
            "actor_kind": actor.kind,
            "actor": actor.name,
            "action": action,
            "entity": entity,
            "entity_key": key,
            "before": jsonable(before) if before is not None else None,
            "after": jsonable(after) if after is not None else None,
        }
        for key, before, after in changes
    ]
    if rows:
        session.execute(insert(AuditEntry), rows)
    return len(rows)


def latest_at(session: Session, action: str, entity: str, keys: Iterable[str]) -> dict[str, dt.datetime]:
    """When `action` was last recorded for each of `keys` (those never recorded are absent)."""
    from sqlalchemy import func, select

    wanted = list(keys)
    if not wanted:
        return {}
    stmt = (
        select(AuditEntry.entity_key, func.max(AuditEntry.at))
        .where(AuditEntry.action == action, AuditEntry.entity == entity, AuditEntry.entity_key.in_(wanted))
        .group_by(AuditEntry.entity_key)
    )
    return dict(session.execute(stmt).tuples().all())


def count_since(
    session: Session,
    action: str,
    since: dt.datetime,
    *,
    entity: str | None = None,
    entity_key: str | None = None,
    after: Mapping[str, str] | None = None,
) -> tuple[int, dt.datetime | None]:
    """How many `action` entries were recorded after `since` (optionally for one entity key, or
    whose `after` snapshot holds the given text fields), and when the oldest of them was."""
    from sqlalchemy import func, select

    where = [AuditEntry.action == action, AuditEntry.at > since]
    if entity is not None:
        where.append(AuditEntry.entity == entity)
    if entity_key is not None:
        where.append(AuditEntry.entity_key == entity_key)
    for field, value in (after or {}).items():
        where.append(AuditEntry.after[field].astext == value)
    count, oldest = session.execute(
        select(func.count(AuditEntry.id), func.min(AuditEntry.at)).where(*where)
    ).one()
    return int(count), oldest
