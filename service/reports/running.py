"""Running a declared report: parameters resolved and checked, the query scoped to the
principal's org unit (`scope_to_org`), paged with its total, or streamed whole."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import column, func, select, text
from sqlalchemy.orm import Session

from service import aggregates
from service.auth.principal import Principal
from service.auth.scoping import can_see, scope_to_org
from service.reports.registry import Column, Report
from service.web.times import IST, format_ist

MAX_PAGE_SIZE = 500
CHART_ROWS = 2000


class ParameterError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Resolved:
    """Parameter values as shown (strings) and the SQL binds derived from them."""

    values: dict[str, str]
    binds: dict[str, Any]
    org_unit_code: str | None


def today_ist(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(IST).date()


def resolve(
    session: Session, report: Report, args: Mapping[str, Any], principal: Principal, today: date
) -> Resolved:
    values: dict[str, str] = {}
    binds: dict[str, Any] = {}
    errors: dict[str, str] = {}
    org_code: str | None = None
    for p in report.params:
        raw = args.get(p.name)
        raw = str(raw).strip() if raw not in (None, "") else None
        if raw is None and p.default is not None:
            raw = str(p.default(today))
        if p.kind == "month":
            try:
                first = datetime.strptime(raw or "", "%Y-%m").date()
            except ValueError:
                errors[p.name] = "expected a month YYYY-MM"
                continue
            last = date.fromordinal(first.replace(day=28).toordinal() + 4).replace(day=1)
            _days(binds, first, date.fromordinal(last.toordinal() - 1))
        elif p.kind == "day":
            try:
                day = date.fromisoformat(raw or "")
            except ValueError:
                errors[p.name] = "expected a day YYYY-MM-DD"
                continue
            _days(binds, day, day)
        elif p.kind == "org_unit":
            org_code, path, error = _org_unit(session, raw, principal)
            if error:
                errors[p.name] = error
                continue
            binds["org_path"] = path
        elif p.kind in ("level", "choice"):
            if raw not in p.choices:
                errors[p.name] = f"one of {', '.join(p.choices)}"
                continue
            binds[p.name] = raw
        else:
            binds[p.name] = (raw or "")[:100]
        values[p.name] = raw or ""
    if errors:
        raise ParameterError(errors)
    binds.setdefault("org_path", _org_unit(session, None, principal)[1])
    return Resolved(values, binds, org_code)


def _days(binds: dict[str, Any], first: date, last: date) -> None:
    binds["first_day"], binds["last_day"] = first, last
    binds["start"], binds["end"] = aggregates.local_span(first, last)


def _org_unit(session: Session, code: str | None, principal: Principal) -> tuple[str | None, str, str | None]:
    """(code, path, error): the chosen org unit, which must be one the principal can see."""
    if code is None:
        if principal.org_unit_id is None:
            return None, "/", None
        row = session.execute(
            text("SELECT code, path FROM org_units WHERE id = :id"), {"id": principal.org_unit_id}
        ).one()
        return row.code, row.path, None
    found = session.execute(
        text("SELECT id, code, path FROM org_units WHERE code = :c"), {"c": code[:32]}
    ).one_or_none()
    # An org unit outside the principal's own is as unknown as one that does not exist.
    if found is None or not can_see(session, principal, found.id):
        return None, "", f"unknown org unit {code!r}"
    return found.code, found.path, None


def _statement(report: Report, principal: Principal) -> Any:
    cols: list[Any] = [column(c.key) for c in report.columns] + [column("org_unit_id")]
    sub = text(report.sql).columns(*cols).subquery("report")
    stmt = select(*[sub.c[c.key] for c in report.columns])
    return scope_to_org(stmt, sub.c.org_unit_id, principal), sub


def page(
    session: Session, report: Report, resolved: Resolved, principal: Principal, page_no: int, page_size: int
) -> dict[str, Any]:
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    stmt, sub = _statement(report, principal)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()), resolved.binds) or 0
    ordered = stmt.order_by(*[sub.c[k] for k in report.order_by])
    rows = session.execute(ordered.limit(page_size).offset((page_no - 1) * page_size), resolved.binds)
    return {
        "items": [dict(r._mapping) for r in rows],
        "total": int(total),
        "page": page_no,
        "page_size": page_size,
        "pages": max(1, -(-int(total) // page_size)),
    }


def chart_rows(
    session: Session, report: Report, resolved: Resolved, principal: Principal
) -> list[dict[str, Any]]:
    """The rows the chart draws: the whole result in report order, up to CHART_ROWS."""
    stmt, sub = _statement(report, principal)
    ordered = stmt.order_by(*[sub.c[k] for k in report.order_by]).limit(CHART_ROWS)
    return [dict(r._mapping) for r in session.execute(ordered, resolved.binds)]


def stream(
    session: Session, report: Report, resolved: Resolved, principal: Principal, chunk: int = 5000
) -> Iterator[dict[str, Any]]:
    """Every row, in report order, fetched in chunks through a server-side cursor."""
    stmt, sub = _statement(report, principal)
    ordered = stmt.order_by(*[sub.c[k] for k in report.order_by]).execution_options(
        stream_results=True, yield_per=chunk
    )
    for row in session.execute(ordered, resolved.binds):
        yield dict(row._mapping)


def shown(col: Column, value: Any) -> Any:
    """A value as a person or a file gets it: rounded numbers, times in IST."""
    if value is None:
        return None
    if col.kind == "datetime" and isinstance(value, datetime):
        return value.astimezone(IST)
    if col.kind in ("number", "percent") and isinstance(value, float | Decimal | int):
        return round(float(value), col.digits)
    if col.kind == "integer" and isinstance(value, float | Decimal | int):
        return int(value)
    return value


def display(col: Column, value: Any) -> str:
    v = shown(col, value)
    if v is None:
        return "—"
    if isinstance(v, datetime):
        return format_ist(v, "datetime")
    if isinstance(v, float):
        return f"{v:,.{col.digits}f}"
    if isinstance(v, int) and col.kind != "text":
        return f"{v:,}"
    return str(v)
