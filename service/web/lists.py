"""The one list component's server side: a page of a scoped, filtered query with its total, sort,
active filters, select-all-matching ids, and CSV/XLSX export of the whole filtered list.

Each page builds its own scoped `Select` (org scoping stays with the area that owns the rows) and
hands it here with a `ListSpec`; the template side is `_list.html`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from service.web.times import IST, iso_ist

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
EXPORT_MAX_ROWS = 100_000  # a bigger list is refused (never cut short): narrow the filter
CONTROL_ARGS = ("page", "per_page", "sort", "dir", "export")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as formulas


class ExportTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class Column:
    """One exported column: its heading and how to read it from a row."""

    label: str
    value: Callable[[Any], Any]


@dataclass(frozen=True)
class ListSpec:
    name: str  # element ids and export file names
    sorts: Mapping[str, tuple[Any, bool]]  # sort key -> (SQL expression, descending by default)
    default_sort: str
    tiebreak: Any  # appended to every order so pages never overlap
    columns: tuple[Column, ...]
    filters: Mapping[str, str] = field(default_factory=dict)  # query arg -> label
    defaults: Mapping[str, str] = field(default_factory=dict)  # a filter at its default is not "active"
    rows: str = "scalars"  # scalars (ORM objects) | mappings | rows


@dataclass
class ListPage:
    spec: ListSpec
    rows: list[Any]
    total: int
    page: int
    per_page: int
    sort: str
    descending: bool
    args: dict[str, str]
    base_url: str

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def active_filters(self) -> list[tuple[str, str]]:
        """(label, value) of each filter set away from its default, for the empty state."""
        return [
            (label, self.args[name])
            for name, label in self.spec.filters.items()
            if self.args.get(name) and self.args.get(name) != self.spec.defaults.get(name, "")
        ]

    @property
    def query(self) -> str:
        """The filters alone (no page, sort or export), as a bulk form sends them back."""
        return urlencode({k: v for k, v in self.args.items() if k not in CONTROL_ARGS})

    def url(self, **changes: Any) -> str:
        args = {**self.args, **{k: str(v) for k, v in changes.items() if v is not None}}
        for key, value in changes.items():
            if value is None:
                args.pop(key, None)
        encoded = urlencode({k: v for k, v in args.items() if v != ""})
        return self.base_url + ("?" + encoded if encoded else "")

    def sort_url(self, key: str) -> str:
        if key == self.sort:
            return self.url(sort=key, dir="asc" if self.descending else "desc", page=None)
        return self.url(sort=key, dir=None, page=None)

    def aria_sort(self, key: str) -> str:
        if key != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"

    @property
    def clear_url(self) -> str:
        return self.base_url


def plain_args(args: Mapping[str, Any]) -> dict[str, str]:
    """The request's arguments, first value of each, bounded in length."""
    return {str(k): str(v)[:200] for k, v in args.items() if v is not None}


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


def _ordered(spec: ListSpec, stmt: Select[Any], args: Mapping[str, str]) -> tuple[Select[Any], str, bool]:
    sort = args.get("sort", spec.default_sort)
    if sort not in spec.sorts:
        sort = spec.default_sort
    expression, descending = spec.sorts[sort]
    if args.get("dir") in ("asc", "desc"):
        descending = args["dir"] == "desc"
    order = expression.desc() if descending else expression.asc()
    return stmt.order_by(order.nulls_last(), spec.tiebreak), sort, descending


def count(session: Session, stmt: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)


def _fetch(session: Session, spec: ListSpec, stmt: Select[Any]) -> list[Any]:
    result = session.execute(stmt)
    if spec.rows == "scalars":
        return list(result.scalars())
    if spec.rows == "mappings":
        return list(result.mappings())
    return list(result.all())


def read_page(
    session: Session, spec: ListSpec, stmt: Select[Any], args: Mapping[str, Any], base_url: str
) -> ListPage:
    """One page of `stmt` (already scoped and filtered) with the total of the whole list."""
    plain = plain_args(args)
    per_page = _int(plain.get("per_page"), DEFAULT_PAGE_SIZE)
    per_page = per_page if per_page in PAGE_SIZES else DEFAULT_PAGE_SIZE
    total = count(session, stmt)
    pages = max(1, -(-total // per_page))
    page = min(max(1, _int(plain.get("page"), 1)), pages)
    ordered, sort, descending = _ordered(spec, stmt, plain)
    rows = _fetch(session, spec, ordered.limit(per_page).offset((page - 1) * per_page))
    return ListPage(spec, rows, total, page, per_page, sort, descending, plain, base_url)


def matching_ids(session: Session, id_column: Any, stmt: Select[Any], cap: int) -> list[int]:
    """Every id the filtered list holds (select-all-matching), at most `cap` + 1 to detect excess."""
    ids = stmt.with_only_columns(id_column).order_by(id_column).limit(cap + 1)
    return [int(i) for i in session.scalars(ids)]


# Export ------------------------------------------------------------------------------------
def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_ist(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _defused(str(value))


def _defused(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _cell_xlsx(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(IST).replace(tzinfo=None)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | date) or value is None:
        return value
    return _defused(str(value))


def _csv(spec: ListSpec, rows: Iterable[Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.label for c in spec.columns])
    for row in rows:
        writer.writerow([_cell_text(c.value(row)) for c in spec.columns])
    return ("\ufeff" + out.getvalue()).encode()  # the BOM makes Excel read UTF-8 (Hindi names)


def _xlsx(spec: ListSpec, rows: Iterable[Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(spec.name[:31])
    sheet.append([c.label for c in spec.columns])
    for row in rows:
        cells = []
        for column in spec.columns:
            value = _cell_xlsx(column.value(row))
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, datetime):
                cell.number_format = "dd-mmm-yyyy hh:mm"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export(
    session: Session, spec: ListSpec, stmt: Select[Any], args: Mapping[str, Any], today: date
) -> Response:
    """The whole filtered list (not one page) as CSV or XLSX; times in IST, headings say so."""
    fmt = plain_args(args).get("export", "csv")
    if fmt not in MEDIA_TYPES:
        fmt = "csv"
    total = count(session, stmt)
    if total > EXPORT_MAX_ROWS:
        raise ExportTooLarge(
            f"{total:,} rows match; an export holds at most {EXPORT_MAX_ROWS:,}. Narrow the filter."
        )
    ordered, _, _ = _ordered(spec, stmt, plain_args(args))
    rows = _fetch(session, spec, ordered)
    body = _csv(spec, rows) if fmt == "csv" else _xlsx(spec, rows)
    filename = f"{spec.name}-{today.isoformat()}.{fmt}"
    return Response(
        body,
        mimetype=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
