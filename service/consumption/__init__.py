"""A consumer's consumption (and cost at its tariff) per period, keyed by consumer over every
meter installed on it: `consumption(session, consumer_id, period, today)`."""

from __future__ import annotations

from service.consumption.daily import consumer_days_cte
from service.consumption.periods import CURRENT, PERIODS, REPORTS, DayRange, buckets
from service.consumption.series import Bucket, Series, consumption
from service.consumption.tariffs import Tariff, tariff_for

__all__ = [
    "CURRENT",
    "PERIODS",
    "REPORTS",
    "Bucket",
    "DayRange",
    "Series",
    "Tariff",
    "buckets",
    "consumer_days_cte",
    "consumption",
    "tariff_for",
]
