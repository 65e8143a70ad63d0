"""Writing an instance step in one round trip: its row, history, new work items and audit.

Starts and task completions are the hot paths (webhook bursts, the work queue). The ORM would
send the business-key check, the insert or update, then one statement per table; here one
statement of data-modifying CTEs does it all, and `ON CONFLICT DO NOTHING` on the business-key
index replaces the check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.audit.log import insert_from

# The history and new work items of one instance (`inst`), shared by start and advance.
_HISTORY_AND_ITEMS = """), history AS (
    INSERT INTO process_events (instance_id, kind, bpmn_id, name, actor, detail)
    SELECT inst.id, e.kind, e.bpmn_id, e.name, e.actor, e.detail
    FROM inst, jsonb_to_recordset(%(events)s::jsonb)
        AS e(ord int, kind text, bpmn_id text, name text, actor text, detail jsonb)
    ORDER BY e.ord
), items AS (
    INSERT INTO work_items
        (instance_id, task_id, process_id, bpmn_id, name, candidate_group, role, org_unit_id,
         status, priority, due_at, form_schema, data, business_key)
    SELECT inst.id, w.task_id, w.process_id, w.bpmn_id, w.name, w.candidate_group, w.role,
           w.org_unit_id, 'open', w.priority, w.due_at, w.form_schema, w.data, w.business_key
    FROM inst, jsonb_to_recordset(%(items)s::jsonb)
        AS w(ord int, task_id text, process_id text, bpmn_id text, name text,
             candidate_group text, role text, org_unit_id int, priority int,
             due_at timestamptz, form_schema jsonb, data jsonb, business_key text)
    ORDER BY w.ord
"""

# Rows of the child tables travel as one JSON array each (jsonb_to_recordset), so the text of
# the statement is the same for every start and PostgreSQL and psycopg2 see a constant shape.
# Audit rows go through the audit package (set-based, inside the one statement).
_START_AUDIT = insert_from(
    """SELECT %(actor_kind)s, %(actor)s, 'start', 'process_instance', inst.id::text, NULL,
           %(audit_after)s::jsonb
    FROM inst"""
)
_ADVANCE_AUDIT = insert_from(
    """SELECT a.actor_kind, a.actor, a.action, a.entity, a.entity_key, a.before, a.after
    FROM inst, jsonb_to_recordset(%(audit)s::jsonb)
        AS a(ord int, actor_kind text, actor text, action text, entity text, entity_key text,
             before jsonb, after jsonb)
    ORDER BY a.ord"""
)
_START_MANY_AUDIT = insert_from(
    """SELECT %(actor_kind)s, %(actor)s, 'start', 'process_instance', done.id::text, NULL,
           jsonb_build_object('process_id', %(process_id)s::text, 'business_key', done.business_key)
    FROM done
    ORDER BY done.ord"""
)

START_SQL = f"""
WITH inst AS (
    INSERT INTO process_instances
        (process_id, spec_hash, business_key, status, org_unit_id, state, version, started_by,
         ended_at, error)
    VALUES (%(process_id)s, %(spec_hash)s, %(business_key)s, %(status)s, %(org_unit_id)s,
            %(state)s, 1, %(started_by)s, %(ended_at)s, NULL)
    ON CONFLICT (process_id, business_key) WHERE business_key IS NOT NULL DO NOTHING
    RETURNING id, started_at, updated_at
{_HISTORY_AND_ITEMS}), audit AS (
    {_START_AUDIT}
)
SELECT id, started_at, updated_at FROM inst
"""  # noqa: S608 - composed only of constant fragments

# The instance row is locked (SELECT ... FOR UPDATE) by the caller; the version it writes is
# the locked version + 1, so optimistic locking works as with the ORM.
ADVANCE_SQL = f"""
WITH inst AS (
    UPDATE process_instances
    SET state = %(state)s, version = %(version)s, updated_at = %(updated_at)s,
        status = %(status)s, ended_at = %(ended_at)s, error = %(error)s
    WHERE id = %(id)s
    RETURNING id
{_HISTORY_AND_ITEMS}), audit AS (
    {_ADVANCE_AUDIT}
)
SELECT id FROM inst
"""  # noqa: S608 - composed only of constant fragments


# start_many: the instances of a batch travel as parallel arrays (unnest; the states are long
# texts, cheaper as text[] than inside a JSON document), their child rows as one JSON array each
# tagged with the instance's ordinal. Ids come from the sequence in the `input` CTE, so child
# rows join on them; rows whose business key exists are skipped by ON CONFLICT and so are
# their children (they are missing from `done`).
START_MANY_SQL = f"""
WITH input AS (
    SELECT nextval(pg_get_serial_sequence('process_instances', 'id')) AS id, i.*
    FROM unnest(%(ords)s::int[], %(business_keys)s::text[], %(statuses)s::text[],
                %(org_unit_ids)s::int[], %(states)s::text[], %(ended_ats)s::timestamptz[])
        AS i(ord, business_key, status, org_unit_id, state, ended_at)
), inst AS (
    INSERT INTO process_instances
        (id, process_id, spec_hash, business_key, status, org_unit_id, state, version, started_by,
         ended_at, error)
    SELECT id, %(process_id)s, %(spec_hash)s, business_key, status, org_unit_id, state, 1,
           %(started_by)s, ended_at, NULL
    FROM input
    ORDER BY ord
    ON CONFLICT (process_id, business_key) WHERE business_key IS NOT NULL DO NOTHING
    RETURNING id
), done AS (
    SELECT input.ord, input.id, input.business_key FROM inst JOIN input USING (id)
), history AS (
    INSERT INTO process_events (instance_id, kind, bpmn_id, name, actor, detail)
    SELECT done.id, e.kind, e.bpmn_id, e.name, e.actor, e.detail
    FROM jsonb_to_recordset(%(events)s::jsonb)
        AS e(inst int, ord int, kind text, bpmn_id text, name text, actor text, detail jsonb)
    JOIN done ON done.ord = e.inst
    ORDER BY e.inst, e.ord
), items AS (
    INSERT INTO work_items
        (instance_id, task_id, process_id, bpmn_id, name, candidate_group, role, org_unit_id,
         status, priority, due_at, form_schema, data, business_key)
    SELECT done.id, w.task_id, w.process_id, w.bpmn_id, w.name, w.candidate_group, w.role,
           w.org_unit_id, 'open', w.priority, w.due_at, w.form_schema, w.data, w.business_key
    FROM jsonb_to_recordset(%(items)s::jsonb)
        AS w(inst int, ord int, task_id text, process_id text, bpmn_id text, name text,
             candidate_group text, role text, org_unit_id int, priority int,
             due_at timestamptz, form_schema jsonb, data jsonb, business_key text)
    JOIN done ON done.ord = w.inst
    ORDER BY w.inst, w.ord
), audit AS (
    {_START_MANY_AUDIT}
)
SELECT ord, id FROM done
"""  # noqa: S608 - composed only of constant fragments


@dataclass(frozen=True)
class StartedRow:
    """One instance of a bulk start: its row values and child rows (as for insert_started)."""

    business_key: str | None
    status: str
    org_unit_id: int | None
    state: str
    ended_at: datetime | None
    events: list[dict[str, Any]]
    items: list[dict[str, Any]]


def insert_started_many(
    session: Session,
    process_id: str,
    spec_hash: str,
    rows: list[StartedRow],
    actor_kind: str,
    actor: str,
) -> dict[int, int]:
    """Write many started instances in one statement: position in `rows` -> new instance id.

    A position missing from the answer had its business key taken (nothing written for it)."""
    if not rows:
        return {}
    session.flush()
    params = {
        "process_id": process_id,
        "spec_hash": spec_hash,
        "started_by": actor,
        "actor_kind": actor_kind,
        "actor": actor,
        "ords": list(range(len(rows))),
        "business_keys": [r.business_key for r in rows],
        "statuses": [r.status for r in rows],
        "org_unit_ids": [r.org_unit_id for r in rows],
        "states": [r.state for r in rows],
        "ended_ats": [r.ended_at for r in rows],
        "events": _json(
            [{"inst": n, "ord": i, **e} for n, r in enumerate(rows) for i, e in enumerate(r.events)]
        ),
        "items": _json(
            [{"inst": n, "ord": i, **w} for n, r in enumerate(rows) for i, w in enumerate(r.items)]
        ),
    }
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(START_MANY_SQL, params)
        return {int(ord_): int(id_) for ord_, id_ in cursor.fetchall()}
    finally:
        cursor.close()


@dataclass(frozen=True)
class InsertedInstance:
    id: int
    started_at: datetime
    updated_at: datetime


def insert_started(
    session: Session,
    instance: dict[str, Any],
    events: list[dict[str, Any]],
    items: list[dict[str, Any]],
    actor_kind: str,
    actor: str,
    audit_after: dict[str, Any],
) -> InsertedInstance | None:
    """None when an instance with the same process id and business key exists (nothing written)."""
    session.flush()  # rows the caller added first (e.g. an org unit) must exist for the FKs
    params = {
        **instance,
        "events": _json([{"ord": i, **e} for i, e in enumerate(events)]),
        "items": _json([{"ord": i, **w} for i, w in enumerate(items)]),
        "actor_kind": actor_kind,
        "actor": actor,
        "audit_after": _json(audit_after),
    }
    row = _execute(session, START_SQL, params)
    return None if row is None else InsertedInstance(int(row[0]), row[1], row[2])


def update_advanced(
    session: Session,
    instance: dict[str, Any],
    events: list[dict[str, Any]],
    items: list[dict[str, Any]],
    audit: list[dict[str, Any]],
) -> bool:
    """Write the state of a locked instance and what its step created; False if the row is gone."""
    session.flush()  # earlier changes of this transaction first: their history precedes this step's
    params = {
        **instance,
        "events": _json([{"ord": i, **e} for i, e in enumerate(events)]),
        "items": _json([{"ord": i, **w} for i, w in enumerate(items)]),
        "audit": _json([{"ord": i, **a} for i, a in enumerate(audit)]),
    }
    return _execute(session, ADVANCE_SQL, params) is not None


def _execute(session: Session, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """Run on the session's DBAPI connection (same transaction): SQLAlchemy's result set-up for
    a text statement cost about as much as the statement itself here."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql, params)
        row: tuple[Any, ...] | None = cursor.fetchone()
        return row
    finally:
        cursor.close()


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)
