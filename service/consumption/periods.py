"""The consumer's periods and reports as local (IST) day ranges: plain dates, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# period -> (resolution, number of buckets); "current" periods are one bucket up to today.
REPORTS = {
    "last_7_days": ("day", 7),
    "last_4_weeks": ("week", 4),
    "last_6_months": ("month", 6),
    "last_2_years": ("month", 24),
}
CURRENT = ("today", "week", "month", "year")
PERIODS = CURRENT + tuple(REPORTS)


@dataclass(frozen=True)
class DayRange:
    first_day: date
    last_day: date  # inclusive


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _month_range(first: date) -> DayRange:
    return DayRange(first, month_start(first, -1) - timedelta(days=1))


def buckets(period: str, today: date) -> tuple[str, list[DayRange]]:
    """(resolution, buckets oldest first) of `period`; the last bucket holds today and may be
    partial (this week so far). Weeks start on Monday."""
    if period == "today":
        return "day", [DayRange(today, today)]
    if period == "week":
        return "week", [DayRange(today - timedelta(days=today.weekday()), today)]
    if period == "month":
        return "month", [DayRange(month_start(today), today)]
    if period == "year":
        return "year", [DayRange(date(today.year, 1, 1), today)]
    if period not in REPORTS:
        raise ValueError(f"unknown period {period!r}; one of {', '.join(PERIODS)}")
    resolution, count = REPORTS[period]
    if resolution == "day":
        return resolution, [
            DayRange(today - timedelta(days=k), today - timedelta(days=k)) for k in range(count - 1, -1, -1)
        ]
    if resolution == "week":
        monday = today - timedelta(days=today.weekday())
        return resolution, [
            DayRange(monday - timedelta(weeks=k), monday - timedelta(weeks=k) + timedelta(days=6))
            for k in range(count - 1, -1, -1)
        ]
    return resolution, [_month_range(month_start(today, k)) for k in range(count - 1, -1, -1)]
