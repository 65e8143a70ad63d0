"""The parts every bulk upsert shares: the result with its rejects, row validation, code lookups."""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError
from psycopg2.extras import execute_values
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.auth.scoping import visible_org_unit_ids

MAX_ROWS = 10_000


@dataclass(frozen=True)
class Reject:
    index: int
    key: str | None
    field: str | None
    reason: str


@dataclass
class UpsertResult:
    entity: str
    received: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Reject] = field(default_factory=list)

    def reject(self, index: int, key: str | None, field_name: str | None, reason: str) -> None:
        self.rejected.append(Reject(index, key, field_name, reason))

    @property
    def accepted(self) -> int:
        return self.received - len({r.index for r in self.rejected})

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "received": self.received,
            "accepted": self.accepted,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [
                {"index": r.index, "key": r.key, "field": r.field, "reason": r.reason}
                for r in sorted(self.rejected, key=lambda r: r.index)
            ],
        }


ValidRow = tuple[int, dict[str, Any]]


def _messages(messages: Any) -> Iterable[tuple[str | None, str]]:
    if isinstance(messages, Mapping):
        for name, value in messages.items():
            first = value[0] if isinstance(value, list) and value else value
            if isinstance(first, Mapping):  # a nested structure: name the outer field
                first = "; ".join(msg for _, msg in _messages(first))
            yield (None if name == "_schema" else str(name)), str(first)
    elif isinstance(messages, list):
        yield None, "; ".join(str(m) for m in messages)
    else:
        yield None, str(messages)


def validate_rows(
    rows: list[Any],
    schema: Schema,
    key_field: str,
    raw_key: Callable[[Mapping[str, Any]], str | None],
    key_of: Callable[[dict[str, Any]], str],
    result: UpsertResult,
) -> list[ValidRow]:
    """Load each row; reject bad ones (one reject per field) and later duplicates of a key."""
    valid: list[ValidRow] = []
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(rows):
        if not isinstance(raw, dict):
            result.reject(index, None, None, "Expected a JSON object.")
            continue
        # PostgreSQL text cannot hold NUL: one such value would fail the whole request.
        nul = [name for name, value in raw.items() if isinstance(value, str) and "\x00" in value]
        if nul:
            key = raw_key(raw)
            for name in nul:
                result.reject(
                    index, key if key is None or "\x00" not in key else None, name, "Holds a NUL character."
                )
            continue
        try:
            data = schema.load(raw)
        except ValidationError as exc:
            key = raw_key(raw)
            for name, message in _messages(exc.messages):
                result.reject(index, key, name, message)
            continue
        key = key_of(data)
        if key in first_seen:
            result.reject(index, key, key_field, f"duplicate of row {first_seen[key]} in this request")
            continue
        first_seen[key] = index
        valid.append((index, data))
    return valid


def string_key(field_name: str) -> Callable[[Mapping[str, Any]], str | None]:
    def get(raw: Mapping[str, Any]) -> str | None:
        value = raw.get(field_name)
        return value if isinstance(value, str) else None

    return get


def ids_by_code(session: Session, code_column: Any, codes: Iterable[str]) -> dict[str, int]:
    """{code: id} for the codes that exist, in one query."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    table = code_column.class_
    rows = session.execute(select(code_column, table.id).where(code_column.in_(wanted)))
    return {str(code): int(ident) for code, ident in rows.all()}


def visible_org_ids(session: Session, principal: Principal | None) -> set[int] | None:
    """Org unit ids a principal may write to, or None for the whole discom."""
    return None if principal is None else visible_org_unit_ids(session, principal.org_unit_id)


def lock_entity(session: Session, entity: str) -> None:
    """Serialise upserts of one entity: two syncs racing on a new key would otherwise collide."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(f"masterdata:{entity}".encode())}
    )


def bulk_update(session: Session, model: Any, params: list[dict[str, Any]]) -> None:
    """UPDATE ... FROM (VALUES ...) by primary key, one statement per column set, pages of 1,000.

    The ORM's bulk update by primary key runs one statement per row under psycopg2, and
    SQLAlchemy compiles a large VALUES clause slowly; psycopg2's execute_values does neither.
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for p in params:
        groups[tuple(sorted(p))].append(p)
    table = model.__table__
    dialect = session.get_bind().dialect
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for names, group in groups.items():
            setting = ", ".join(
                f'"{n}" = v."{n}"::{table.c[n].type.compile(dialect=dialect)}' for n in names if n != "id"
            )
            column_list = ", ".join(f'"{n}"' for n in names)
            # Names come from our table definitions, never from a request.
            sql = f'UPDATE "{table.name}" AS t SET {setting} FROM (VALUES %s) AS v({column_list}) WHERE t.id = v.id'  # noqa: S608
            rows = [tuple(p[n] for n in names) for p in group]
            execute_values(cursor, sql, rows, page_size=1000)
    finally:
        cursor.close()
