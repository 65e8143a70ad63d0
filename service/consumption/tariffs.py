"""The seam for a consumer's tariff: energy cost of a bucket's kWh (per TOD zone).

The tariffs are data: `rules/tariffs/tariffs.yaml`, loaded once (lazily) into a `TariffBook`.
`tariff_for(category)` answers the version in force on `on` (default: the newest version), or
None for a category the file does not price, and then every cost is None ("not available").
"""

from __future__ import annotations

import calendar
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from rules.determinants import DEFAULT_TOD_ZONES, TodZone
from rules.tariffs import TARIFF_FILE, TariffBook, TariffLoad, TariffVersion, load_file

PAISE = Decimal("0.01")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tariff:
    category: str
    energy_inr_per_kwh: Decimal
    # TOD surcharge (+) or rebate (-) as a fraction of the energy rate, by zone number.
    zone_adjustment: Mapping[int, Decimal] = field(default_factory=dict)
    zones: tuple[TodZone, ...] = DEFAULT_TOD_ZONES
    version: TariffVersion | None = None  # the tariff file's version; None: a flat rate given

    def energy_cost_inr(
        self, kwh: Decimal, kwh_by_zone: tuple[Decimal, ...], month_fraction: Decimal = Decimal(1)
    ) -> Decimal:
        """kWh at the energy rate (slabs scaled by `month_fraction`, see `month_fraction`), plus
        each zone's adjustment on that zone's kWh at the flat rate."""
        cost = (
            kwh * self.energy_inr_per_kwh
            if self.version is None
            else self.version.energy_inr(kwh, month_fraction)
        )
        for zone, share in self.zone_adjustment.items():
            if 1 <= zone <= len(kwh_by_zone):
                cost += kwh_by_zone[zone - 1] * self.energy_inr_per_kwh * share
        return cost.quantize(PAISE, rounding=ROUND_HALF_UP)


def month_fraction(first_day: date, last_day: date) -> Decimal:
    """How many months of slab limits a bucket gets: a month the bucket enters on its 1st counts
    whole (month-to-date is priced as the bill so far, as the prepaid ledger charges it); a month
    entered part-way counts its days over the month's days (a week: 7/30 or 7/31)."""
    total, day = Decimal(0), first_day
    while day <= last_day:
        days_in_month = calendar.monthrange(day.year, day.month)[1]
        month_end = day.replace(day=days_in_month)
        covered = (min(month_end, last_day) - day).days + 1
        total += Decimal(1) if day.day == 1 else Decimal(covered) / Decimal(days_in_month)
        day = month_end + timedelta(days=1)
    return total


class _Loaded:
    """The tariff book in force; a file that does not validate leaves the last good book."""

    def __init__(self) -> None:
        self.book: TariffBook | None = None
        self.lock = threading.Lock()


_LOADED = _Loaded()


def reload(path: Path = TARIFF_FILE) -> TariffLoad:
    """Read the tariff file; on errors keep the book already loaded and return the errors."""
    result = load_file(path)
    with _LOADED.lock:
        if result.book is not None:
            _LOADED.book = result.book
        else:
            log.error(
                "tariff file refused, previous tariffs stay in force: %s", "; ".join(map(str, result.errors))
            )
    return result


def tariff_book() -> TariffBook:
    if _LOADED.book is None:
        result = reload()
        if result.book is None:
            raise ValueError("; ".join(map(str, result.errors)))
    assert _LOADED.book is not None
    return _LOADED.book


def tariff_version(category: str, on: date) -> TariffVersion | None:
    return tariff_book().in_force(category, on)


def tariff_for(
    category: str, tariffs: Mapping[str, Tariff] | None = None, *, on: date | None = None
) -> Tariff | None:
    """`tariffs` given: a plain look-up in it. Otherwise the file's version of `category` in force
    on `on` (None: the newest version)."""
    if tariffs is not None:
        return tariffs.get(category)
    book = tariff_book()
    version = book.latest(category) if on is None else book.in_force(category, on)
    if version is None:
        return None
    rate = version.energy_inr_per_kwh if version.solution == "flat" else version.slabs[0].inr_per_kwh
    return Tariff(category, rate, version=version)
