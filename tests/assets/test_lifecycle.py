"""The asset status table: legal moves pass, illegal ones are refused with their reason."""

from __future__ import annotations

import pytest

from service.assets.lifecycle import STATUSES, TRANSITIONS, IllegalTransition, check_transition


def test_installed_meter_cannot_go_back_to_store_without_removal() -> None:
    with pytest.raises(
        IllegalTransition, match="a meter installed cannot become in_store; from installed: removed"
    ):
        check_transition("installed", "in_store")
    check_transition("installed", "removed")
    check_transition("removed", "in_store")


def test_scrapped_is_final() -> None:
    for status in STATUSES:
        with pytest.raises(IllegalTransition, match=r"none \(final\)"):
            check_transition("scrapped", status)


def test_unknown_status_is_refused_by_name() -> None:
    with pytest.raises(IllegalTransition, match="unknown status 'lost'"):
        check_transition("in_store", "lost")


def test_full_life_from_purchase_to_scrap_is_legal() -> None:
    life = ["in_store", "issued", "installed", "removed", "faulty", "returned_to_vendor", "scrapped"]
    for current, wanted in zip(life, life[1:], strict=False):
        check_transition(current, wanted)
    assert set(TRANSITIONS) == set(STATUSES)
