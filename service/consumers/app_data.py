"""What the consumer app shows, as plain JSON-ready values: consumption now and the four
reports (kWh and cost at the consumer's tariff, through `service.consumption`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy.orm import Session

from service.consumption import REPORTS, Bucket, Series, consumption

IST = ZoneInfo("Asia/Kolkata")
REPORT_NAMES = tuple(REPORTS)


def local_today(now: datetime) -> date:
    return now.astimezone(IST).date()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _bucket(b: Bucket, resolution: str, language: str) -> dict[str, Any]:
    return {
        "first_day": b.first_day.isoformat(),
        "last_day": b.last_day.isoformat(),
        "label": bucket_label(b.first_day, b.last_day, resolution, language),
        "kwh": _money(b.kwh),
        "cost_inr": _money(b.cost_inr),
        "days_with_data": b.days_with_data,
        "scalar_reads": b.scalar_reads,
    }


def bucket_label(first: date, last: date, resolution: str, language: str = "en") -> str:
    """A short label for a chart's bar in the reader's language: "Tue 17 Nov", "16 Nov – 22 Nov",
    "Nov 2026" (Hindi: "मंगल 17 नव॰", ...)."""
    if resolution == "month":
        return format_date(first, "MMM y", locale=language)
    if resolution == "year":
        return str(first.year)
    if resolution == "week":
        return (
            f"{format_date(first, 'd MMM', locale=language)} – {format_date(last, 'd MMM', locale=language)}"
        )
    return format_date(first, "EEE d MMM", locale=language)


def _series(s: Series, language: str) -> dict[str, Any]:
    return {
        "period": s.period,
        "resolution": s.resolution,
        "tariff_category": s.tariff_category,
        "total_kwh": _money(s.total_kwh),
        "total_cost_inr": _money(s.total_cost_inr),
        "buckets": [_bucket(b, s.resolution, language) for b in s.buckets],
    }


def current(session: Session, consumer_id: int, tariff_category: str, today: date) -> dict[str, Any]:
    """Consumption today, this week, this month and this year, each up to today."""
    periods = {}
    for period in ("today", "week", "month"):
        (b,) = consumption(session, consumer_id, period, today, tariff_category=tariff_category).buckets
        periods[period] = _period(b.first_day, b.last_day, b.kwh, b.cost_inr)
    # The year is the sum of its months, each priced with that month's slabs — as the bills
    # and the monthly reports price them. One bucket Jan–today would spread eleven months of
    # slab limits over the year's kWh and show a year costing less than its own month.
    months = [
        b
        for b in consumption(
            session, consumer_id, "last_2_years", today, tariff_category=tariff_category
        ).buckets
        if b.first_day.year == today.year
    ]
    kwh = [b.kwh for b in months if b.kwh is not None]
    cost = [b.cost_inr for b in months if b.cost_inr is not None]
    periods["year"] = _period(
        date(today.year, 1, 1),
        today,
        sum(kwh, Decimal(0)) if kwh else None,
        sum(cost, Decimal(0)) if cost else None,
    )
    return {"as_of": today.isoformat(), "tariff_category": tariff_category, "periods": periods}


def _period(first: date, last: date, kwh: Decimal | None, cost: Decimal | None) -> dict[str, Any]:
    return {
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "kwh": _money(kwh),
        "cost_inr": _money(cost),
    }


def report(
    session: Session, consumer_id: int, tariff_category: str, name: str, today: date, language: str = "en"
) -> dict[str, Any]:
    """One of REPORT_NAMES: a bucket per day, week or month, oldest first."""
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}; one of {', '.join(REPORT_NAMES)}")
    s = consumption(session, consumer_id, name, today, tariff_category=tariff_category)
    return {"as_of": today.isoformat(), **_series(s, language)}


def figure(report_body: dict[str, Any], title: str, kwh_axis: str, cost_label: str) -> dict[str, Any]:
    """A plotly bar chart of a report (decision 010): a bar per bucket, its cost on hover; a
    bucket without data has no bar (never a bar of 0)."""
    buckets = report_body["buckets"]
    trace = {
        "type": "bar",
        "name": kwh_axis,
        "x": [b["label"] for b in buckets],
        "y": [None if b["kwh"] is None else float(b["kwh"]) for b in buckets],
        "customdata": [b["cost_inr"] or "–" for b in buckets],
        "hovertemplate": f"%{{x}}<br>%{{y:.2f}} kWh<br>{cost_label} ₹%{{customdata}}<extra></extra>",
        "marker": {"color": "#1f6f8b"},
    }
    layout = {
        "title": {"text": title},
        "margin": {"l": 50, "r": 10, "t": 40, "b": 70},
        "height": 300,
        "xaxis": {"type": "category", "tickangle": -45},
        "yaxis": {"title": {"text": kwh_axis}, "rangemode": "tozero"},
        "showlegend": False,
    }
    return {"data": [trace], "layout": layout}
