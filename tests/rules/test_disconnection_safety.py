"""Safety rules for disconnections: the next allowed window on a given clock, and refused files."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rules.disconnection_safety import SafetyRulesError, load, parse

RULES = load()


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    """A December 2026 instant given in IST (UTC+05:30)."""
    total = hour * 60 + minute - 330
    return datetime(2026, 12, day, total // 60, total % 60, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (ist(1, 11), ist(1, 11)),  # Tuesday inside working hours: now
        (ist(1, 8), ist(1, 10)),  # before opening: at 10:00 the same day
        (ist(1, 16, 30), ist(2, 10)),  # after closing: the next morning
        (ist(5, 16), ist(7, 10)),  # Saturday at closing: Sunday is closed, Monday 10:00
        (ist(6, 12), ist(7, 10)),  # Sunday: Monday
        (ist(24, 16, 30), ist(26, 10)),  # 25 December is an MPCZ holiday
    ],
    ids=["inside", "before", "after", "saturday-evening", "sunday", "holiday"],
)
def test_the_next_window(now: datetime, expected: datetime) -> None:
    assert RULES.next_window("MPCZ", now) == expected


def test_holidays_are_per_discom() -> None:
    assert RULES.next_window("OTHER", ist(25, 11)) == ist(25, 11)


def test_a_full_day_moves_to_the_next_window() -> None:
    assert RULES.next_window("MPCZ", ist(1, 11), skip_today=True) == ist(2, 10)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "working_hours: {start: '17:00', end: '09:00'}\\ndaily_cap_per_division: 5",
            "start must be before end",
        ),
        ("working_hours: {start: '9', end: '17:00'}\\ndaily_cap_per_division: 5", "expected HH:MM, got '9'"),
        (
            "working_hours: {start: '09:00', end: '17:00'}\\ndaily_cap_per_division: 0",
            "positive whole number",
        ),
        (
            "working_hours: {start: '09:00', end: '17:00'}\\ndaily_cap_per_division: 5\\nno_disconnection_on: [funday]",
            "'funday' is not a day of the week",
        ),
        (
            "working_hours: {start: '09:00', end: '17:00'}\\ndaily_cap_per_division: 5\\nholidays: {X: ['2026-13-01']}",
            "holidays.X",
        ),
    ],
)
def test_a_bad_rules_file_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(SafetyRulesError, match=message.replace("(", r"\(")):
        parse(text.replace("\\n", "\n"))
