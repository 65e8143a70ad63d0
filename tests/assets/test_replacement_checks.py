"""Scalar -> scalar replacement checks: each refusal named by field, all reasons at once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from service.assets.replacement_checks import check_replacement


def _check(**overrides: Any) -> list[tuple[str, str]]:
    values: dict[str, Any] = {
        "old_meter_consumer_id": 7,
        "consumer_id": 7,
        "new_meter_status": "in_store",
        "final_kwh": Decimal("1520.5"),
        "last_read_kwh": Decimal("1500"),
        "initial_kwh": Decimal("0.2"),
    }
    values.update(overrides)
    return [(r.field, r.error) for r in check_replacement(**values)]


def test_good_replacement_passes() -> None:
    assert _check() == []
    assert _check(final_kwh=Decimal("1500")) == []


def test_meter_not_in_store_refused() -> None:
    assert _check(new_meter_status="installed") == [("new_meter_serial", "not_in_store")]
    assert _check(new_meter_status=None) == [("new_meter_serial", "not_in_store")]


def test_final_read_below_last_refused() -> None:
    assert _check(final_kwh=Decimal("1499.9")) == [("final_kwh", "below_last_read")]


def test_old_meter_on_another_consumer_and_implausible_initial_both_named() -> None:
    assert _check(old_meter_consumer_id=8, initial_kwh=Decimal("51")) == [
        ("old_meter_serial", "not_installed"),
        ("initial_kwh", "implausible"),
    ]
    assert _check(initial_kwh=Decimal("-1")) == [("initial_kwh", "implausible")]
