"""The seam for a consumer's tariff: energy cost of a bucket's kWh (per TOD zone).

No tariff order is loaded yet: `tariff_for` answers None for every category, and every cost is
None (shown as "not available"), never a guessed number. A tariff order file plugs in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from rules.determinants import DEFAULT_TOD_ZONES, TodZone

PAISE = Decimal("0.01")


@dataclass(frozen=True)
class Tariff:
    category: str
    energy_inr_per_kwh: Decimal
    # TOD surcharge (+) or rebate (-) as a fraction of the energy rate, by zone number.
    zone_adjustment: Mapping[int, Decimal] = field(default_factory=dict)
    zones: tuple[TodZone, ...] = DEFAULT_TOD_ZONES

    def energy_cost_inr(self, kwh: Decimal, kwh_by_zone: tuple[Decimal, ...]) -> Decimal:
        """kWh at the energy rate, plus each zone's adjustment on that zone's kWh."""
        cost = kwh * self.energy_inr_per_kwh
        for zone, share in self.zone_adjustment.items():
            if 1 <= zone <= len(kwh_by_zone):
                cost += kwh_by_zone[zone - 1] * self.energy_inr_per_kwh * share
        return cost.quantize(PAISE, rounding=ROUND_HALF_UP)


# category -> Tariff; empty until a tariff order is loaded (see module docstring).
_TARIFFS: dict[str, Tariff] = {}


def tariff_for(category: str, tariffs: Mapping[str, Tariff] | None = None) -> Tariff | None:
    return (_TARIFFS if tariffs is None else tariffs).get(category)
