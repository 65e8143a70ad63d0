"""Tariffs as data: `tariffs.yaml` (schema `schema.json`), versioned and effective-dated per
tariff category, and the one bill function both the prepaid ledger and the consumer app price with.

Solution 1 (`flat`): energy at a flat rate per kWh + a fixed charge per day.
Solution 2 (`slab`): a fixed charge per kW of sanctioned load per month + energy in slabs on the
month's consumption. Both: percentage charges (electricity duty, FPPAS, ...) and a prepaid rebate.

Rounding, as a bill does: every line (fixed, energy, rebate, each percentage) is rounded to the
paisa half-up on its own, and the total is the sum of the rounded lines. A day's prepaid charge is
the month's bill-to-date after that day minus the bill-to-date before it, so the days of a month
add up to exactly the monthly bill (telescoping), whatever the order of the slabs.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from rules.loader import RuleFileError, _line_of, parse_checked

TARIFFS_DIR = Path(__file__).resolve().parent
TARIFF_FILE = TARIFFS_DIR / "tariffs.yaml"
SCHEMA_PATH = TARIFFS_DIR / "schema.json"
PAISE = Decimal("0.01")
HUNDRED = Decimal(100)


def paise(value: Decimal) -> Decimal:
    return value.quantize(PAISE, rounding=ROUND_HALF_UP)


def dec(value: Any) -> Decimal:
    """A YAML number as written: float repr is the shortest round-trip text, so 4.45 -> '4.45'."""
    return Decimal(str(value))


@dataclass(frozen=True)
class Slab:
    upto_kwh: Decimal | None  # None: the last slab, no upper bound
    inr_per_kwh: Decimal


@dataclass(frozen=True)
class Percentage:
    name: str
    pct: Decimal
    applies_to: str  # energy | energy_and_fixed


@dataclass(frozen=True)
class BillLine:
    name: str  # fixed | energy | prepaid_rebate | <percentage name>
    amount_inr: Decimal


@dataclass(frozen=True)
class Bill:
    lines: tuple[BillLine, ...]

    @property
    def total_inr(self) -> Decimal:
        return sum((line.amount_inr for line in self.lines), Decimal(0))

    def line(self, name: str) -> Decimal:
        return next((x.amount_inr for x in self.lines if x.name == name), Decimal(0))


@dataclass(frozen=True)
class TariffVersion:
    version: str
    category: str
    effective_from: date
    solution: str  # flat | slab
    energy_inr_per_kwh: Decimal = Decimal(0)
    fixed_inr_per_day: Decimal = Decimal(0)
    fixed_inr_per_kw_month: Decimal = Decimal(0)
    slabs: tuple[Slab, ...] = ()
    percentages: tuple[Percentage, ...] = ()
    prepaid_rebate_pct: Decimal = Decimal(0)
    line: int = 0

    def energy_inr(self, kwh: Decimal, month_fraction: Decimal = Decimal(1)) -> Decimal:
        """Energy charge of `kwh` (unrounded). Slab limits are monthly; `month_fraction` scales
        them for a period other than one whole month (a week: 7/31 of the month's limits)."""
        if self.solution == "flat":
            return kwh * self.energy_inr_per_kwh
        cost, lower = Decimal(0), Decimal(0)
        for slab in self.slabs:
            upper = None if slab.upto_kwh is None else slab.upto_kwh * month_fraction
            in_slab = (kwh if upper is None else min(kwh, upper)) - lower
            if in_slab <= 0:
                break
            cost += in_slab * slab.inr_per_kwh
            if upper is None:
                break
            lower = upper
        return cost

    def bill(
        self,
        kwh: Decimal,
        *,
        days: int,
        days_in_month: int,
        sanctioned_load_kw: Decimal = Decimal(0),
        prepaid: bool = False,
    ) -> Bill:
        """The bill for `kwh` used over `days` days of a month of `days_in_month` days (the whole
        month: days == days_in_month). Slabs apply to `kwh` as the month's consumption so far."""
        if self.solution == "flat":
            fixed = paise(self.fixed_inr_per_day * days)
        else:
            fixed = paise(self.fixed_inr_per_kw_month * sanctioned_load_kw * days / days_in_month)
        energy = paise(self.energy_inr(kwh))
        lines = [BillLine("fixed", fixed), BillLine("energy", energy)]
        if prepaid and self.prepaid_rebate_pct:
            rebate = -paise(energy * self.prepaid_rebate_pct / HUNDRED)
            lines.append(BillLine("prepaid_rebate", rebate))
            energy += rebate
        for p in self.percentages:
            base = energy if p.applies_to == "energy" else energy + fixed
            lines.append(BillLine(p.name, paise(base * p.pct / HUNDRED)))
        return Bill(tuple(lines))

    def daily_charge(
        self,
        kwh_before: Decimal,
        kwh_day: Decimal,
        *,
        day_of_month: int,
        days_in_month: int,
        sanctioned_load_kw: Decimal = Decimal(0),
        prepaid: bool = True,
    ) -> Decimal:
        """Day `day_of_month`'s charge: bill-to-date after the day minus bill-to-date before it.
        `kwh_before`: the month's kWh on the days before this one."""
        kw = {"days_in_month": days_in_month, "sanctioned_load_kw": sanctioned_load_kw, "prepaid": prepaid}
        after = self.bill(kwh_before + kwh_day, days=day_of_month, **kw)  # type: ignore[arg-type]
        before = self.bill(kwh_before, days=day_of_month - 1, **kw)  # type: ignore[arg-type]
        return after.total_inr - before.total_inr


@dataclass(frozen=True)
class TariffBook:
    tariff_order: str
    file: str
    by_category: Mapping[str, tuple[TariffVersion, ...]] = field(default_factory=dict)

    def in_force(self, category: str, day: date) -> TariffVersion | None:
        """The version of `category` in force on `day` (None before the first one)."""
        versions = self.by_category.get(category, ())
        index = bisect_right([v.effective_from for v in versions], day)
        return versions[index - 1] if index else None

    def latest(self, category: str) -> TariffVersion | None:
        versions = self.by_category.get(category, ())
        return versions[-1] if versions else None

    @property
    def versions(self) -> list[TariffVersion]:
        return [v for vs in self.by_category.values() for v in vs]


@dataclass
class TariffLoad:
    book: TariffBook | None
    errors: list[RuleFileError] = field(default_factory=list)


@cache
def _validator() -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))


def _problems(raw: dict[str, Any]) -> Iterable[tuple[list[Any], str]]:
    """(path within the version, reason) of what the schema cannot say."""
    if not isinstance(raw["effective_from"], date):
        yield ["effective_from"], f"expected a date YYYY-MM-DD, got {raw['effective_from']!r}"
    need = (
        ("energy_inr_per_kwh", "fixed_inr_per_day")
        if raw["solution"] == "flat"
        else ("fixed_inr_per_kw_month", "slabs")
    )
    wrong = (
        ("fixed_inr_per_kw_month", "slabs")
        if raw["solution"] == "flat"
        else ("energy_inr_per_kwh", "fixed_inr_per_day")
    )
    for name in need:
        if name not in raw:
            yield [], f"a {raw['solution']} tariff needs {name}"
    for name in wrong:
        if name in raw:
            yield [name], f"{name} does not belong in a {raw['solution']} tariff"
    slabs = raw.get("slabs", [])
    previous = Decimal(0)
    for i, slab in enumerate(slabs):
        last = i == len(slabs) - 1
        if "upto_kwh" not in slab:
            if not last:
                yield ["slabs", i], "only the last slab may leave out upto_kwh"
            continue
        if last:
            yield ["slabs", i, "upto_kwh"], "the last slab has no upper limit: leave out upto_kwh"
        if dec(slab["upto_kwh"]) <= previous:
            yield ["slabs", i, "upto_kwh"], f"slab limits must rise: {slab['upto_kwh']} after {previous}"
        previous = dec(slab["upto_kwh"])
    names = [p["name"] for p in raw.get("percentages", [])]
    for i, name in enumerate(names):
        if name in names[:i] or name in ("fixed", "energy", "prepaid_rebate"):
            yield ["percentages", i, "name"], f"percentage name {name!r} is repeated or reserved"


def _version(raw: dict[str, Any], line: int) -> TariffVersion:
    return TariffVersion(
        version=raw["version"],
        category=raw["category"],
        effective_from=raw["effective_from"],
        solution=raw["solution"],
        energy_inr_per_kwh=dec(raw.get("energy_inr_per_kwh", 0)),
        fixed_inr_per_day=dec(raw.get("fixed_inr_per_day", 0)),
        fixed_inr_per_kw_month=dec(raw.get("fixed_inr_per_kw_month", 0)),
        slabs=tuple(
            Slab(dec(s["upto_kwh"]) if "upto_kwh" in s else None, dec(s["inr_per_kwh"]))
            for s in raw.get("slabs", [])
        ),
        percentages=tuple(
            Percentage(p["name"], dec(p["pct"]), p["applies_to"]) for p in raw.get("percentages", [])
        ),
        prepaid_rebate_pct=dec(raw.get("prepaid_rebate_pct", 0)),
        line=line,
    )


def load_text(text: str, file: str) -> TariffLoad:
    """Parse and validate a tariff file's text; every problem as `file:line: reason`."""
    root, data, errors = parse_checked(text, file, _validator())
    if errors:
        return TariffLoad(None, errors)
    versions: list[TariffVersion] = []
    first_line: dict[Any, int] = {}  # version id, (category, effective_from) -> first line
    for i, raw in enumerate(data["versions"]):
        path: list[Any] = ["versions", i]
        line = _line_of(root, path)
        problems = list(_problems(raw))
        for key, sub, what in (
            (raw["version"], "version", f"duplicate version {raw['version']!r}"),
            ((raw["category"], raw["effective_from"]), "effective_from",
             f"{raw['category']} already has a version from {raw['effective_from']}"),
        ):  # fmt: skip
            if key in first_line:
                problems.append(([sub], f"{what} (first at line {first_line[key]})"))
            first_line.setdefault(key, line)
        for sub_path, reason in problems:
            where = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in sub_path)
            errors.append(
                RuleFileError(file, _line_of(root, [*path, *sub_path]), f"versions[{i}]{where}: {reason}")
            )
        if not errors:
            versions.append(_version(raw, line))
    if errors:
        return TariffLoad(None, sorted(errors, key=lambda e: e.line))
    by_category: dict[str, list[TariffVersion]] = {}
    for v in versions:
        by_category.setdefault(v.category, []).append(v)
    book = TariffBook(
        data["tariff_order"],
        file,
        {c: tuple(sorted(vs, key=lambda v: v.effective_from)) for c, vs in by_category.items()},
    )
    return TariffLoad(book)


def load_file(path: Path = TARIFF_FILE, label: str | None = None) -> TariffLoad:
    return load_text(path.read_text(encoding="utf-8"), label or path.name)
