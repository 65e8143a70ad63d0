"""What the consumer app shows, as plain JSON-ready values: consumption now and the four
reports (kWh and cost at the consumer's tariff, through `service.consumption`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from service.consumption import CURRENT, REPORTS, Bucket, Series, consumption

IST = ZoneInfo("Asia/Kolkata")
REPORT_NAMES = tuple(REPORTS)


def local_today(now: datetime) -> date:
    return now.astimezone(IST).date()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _bucket(b: Bucket, resolution: str) -> dict[str, Any]:
    return {
        "first_day": b.first_day.isoformat(),
        "last_day": b.last_day.isoformat(),
        "label": bucket_label(b.first_day, b.last_day, resolution),
        "kwh": _money(b.kwh),
        "cost_inr": _money(b.cost_inr),
        "days_with_data": b.days_with_data,
        "scalar_reads": b.scalar_reads,
    }


def bucket_label(first: date, last: date, resolution: str) -> str:
    """A short label for a chart's bar: a day, a week's first day, a month."""
    if resolution == "month":
        return first.strftime("%b %Y")
    if resolution == "year":
        return str(first.year)
    if resolution == "week":
        return f"{first.strftime('%d %b')} – {last.strftime('%d %b')}"
    return first.strftime("%a %d %b")


def _series(s: Series) -> dict[str, Any]:
    return {
        "period": s.period,
        "resolution": s.resolution,
        "tariff_category": s.tariff_category,
        "total_kwh": _money(s.total_kwh),
        "total_cost_inr": _money(s.total_cost_inr),
        "buckets": [_bucket(b, s.resolution) for b in s.buckets],
    }


def current(session: Session, consumer_id: int, tariff_category: str, today: date) -> dict[str, Any]:
    """Consumption today, this week, this month and this year, each up to today."""
    periods = {}
    for period in CURRENT:
        s = consumption(session, consumer_id, period, today, tariff_category=tariff_category)
        (b,) = s.buckets
        periods[period] = {
            "first_day": b.first_day.isoformat(),
            "last_day": b.last_day.isoformat(),
            "kwh": _money(b.kwh),
            "cost_inr": _money(b.cost_inr),
        }
    return {"as_of": today.isoformat(), "tariff_category": tariff_category, "periods": periods}


def report(
    session: Session, consumer_id: int, tariff_category: str, name: str, today: date
) -> dict[str, Any]:
    """One of REPORT_NAMES: a bucket per day, week or month, oldest first."""
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}; one of {', '.join(REPORT_NAMES)}")
    s = consumption(session, consumer_id, name, today, tariff_category=tariff_category)
    return {"as_of": today.isoformat(), **_series(s)}
