"""The checks a scalar -> scalar replacement must pass, on plain values, each refusal with its field.

The entry point (not built yet) loads the values from master data, the asset row and the last
register read, and stores nothing when this returns any reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# A new scalar meter leaves the store with a few test units on it at most.
MAX_INITIAL_KWH = Decimal("50")


@dataclass(frozen=True)
class Refusal:
    field: str
    error: str
    message: str


def check_replacement(
    *,
    old_meter_consumer_id: int | None,
    consumer_id: int,
    new_meter_status: str | None,
    final_kwh: Decimal,
    last_read_kwh: Decimal | None,
    initial_kwh: Decimal,
) -> list[Refusal]:
    """Every reason the replacement is refused; empty when it may go ahead."""
    refusals: list[Refusal] = []
    if old_meter_consumer_id != consumer_id:
        refusals.append(
            Refusal("old_meter_serial", "not_installed", "the old meter is not installed on this consumer")
        )
    if new_meter_status != "in_store":
        shown = new_meter_status or "not an asset"
        refusals.append(
            Refusal("new_meter_serial", "not_in_store", f"the new meter is {shown}, not in store")
        )
    if last_read_kwh is not None and final_kwh < last_read_kwh:
        refusals.append(
            Refusal(
                "final_kwh",
                "below_last_read",
                f"final read {final_kwh} is below the last read {last_read_kwh}",
            )
        )
    if not Decimal(0) <= initial_kwh <= MAX_INITIAL_KWH:
        refusals.append(
            Refusal(
                "initial_kwh", "implausible", f"initial read {initial_kwh} is outside 0-{MAX_INITIAL_KWH} kWh"
            )
        )
    return refusals
