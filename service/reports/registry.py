"""A report is a declaration; the registry turns each into a page, CSV/XLSX downloads, a JSON
API and scheduled runs (docs/reports.md). Declarations live in `service/reports/catalogue/`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

COLUMN_KINDS = ("number", "integer", "percent", "text", "date", "datetime")
PARAM_KINDS = ("month", "day", "org_unit", "level", "choice", "text")
CHART_KINDS = ("bar", "line", "stacked")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    unit: str = ""
    kind: str = "number"
    digits: int = 2  # shown and exported rounded to this many decimals (numbers, percents)

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(f"column {self.key}: kind must be one of {COLUMN_KINDS}")

    @property
    def heading(self) -> str:
        unit = {"datetime": "IST"}.get(self.kind, self.unit)
        return f"{self.title} ({unit})" if unit else self.title


@dataclass(frozen=True)
class Param:
    """A parameter of the form and the API. `default(today)` gives its value when not sent."""

    name: str
    label: str
    kind: str
    default: Callable[[date], Any] | None = None
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"param {self.name}: kind must be one of {PARAM_KINDS}")


@dataclass(frozen=True)
class Chart:
    kind: str  # bar | line | stacked (bars)
    x: str  # column key
    y: tuple[str, ...]  # column keys, one trace each
    title: str = ""

    def __post_init__(self) -> None:
        if self.kind not in CHART_KINDS:
            raise ValueError(f"chart kind must be one of {CHART_KINDS}")


def previous_month(today: date) -> str:
    first = today.replace(day=1)
    last_month = date.fromordinal(first.toordinal() - 1)
    return last_month.strftime("%Y-%m")


def yesterday(today: date) -> str:
    return date.fromordinal(today.toordinal() - 1).isoformat()


PERIOD = Param("period", "Month", "month", default=previous_month)
DAY = Param("day", "Day", "day", default=yesterday)
ORG_UNIT = Param("org_unit", "Org unit", "org_unit")
LEVEL = Param(
    "level", "Group by", "level", default=lambda _: "circle", choices=("region", "circle", "division")
)


@dataclass(frozen=True)
class Report:
    """`sql` is one SELECT over aggregate tables with these binds (from the parameters):
    :first_day, :last_day (local dates), :start, :end (UTC instants of those days), :org_path
    (the chosen org unit's path: filter with `path LIKE :org_path || '%'`), :level, and each
    choice/text parameter by name. It must return every column key and an `org_unit_id`, by
    which the registry scopes rows to what the person or system may see."""

    name: str
    title_en: str
    title_hi: str
    source: str  # AMR | MDAS | billing | energy audit
    description: str
    sql: str
    columns: tuple[Column, ...]
    order_by: tuple[str, ...]
    params: tuple[Param, ...] = (PERIOD, ORG_UNIT)
    chart: Chart | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def __post_init__(self) -> None:
        keys = {c.key for c in self.columns}
        missing = [k for k in self.order_by if k not in keys]
        if self.chart:
            missing += [k for k in (self.chart.x, *self.chart.y) if k not in keys]
        if missing or "org_unit_id" in keys:
            raise ValueError(f"report {self.name}: unknown column(s) {missing} or org_unit_id declared")


REPORTS: dict[str, Report] = {}


def register(report: Report) -> Report:
    if report.name in REPORTS and REPORTS[report.name] != report:
        raise ValueError(f"report {report.name!r} registered twice")
    REPORTS[report.name] = report
    return report


def get(name: str) -> Report | None:
    return REPORTS.get(name)


def by_source() -> dict[str, list[Report]]:
    out: dict[str, list[Report]] = {}
    for r in REPORTS.values():
        out.setdefault(r.source, []).append(r)
    return out
