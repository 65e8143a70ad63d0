"""Safety rules for disconnections, from `safety/disconnection.yaml`: holidays per discom, days of
the week, working hours, a per-division daily cap. Pure: the caller gives the clock and counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

# Not beside the VEE rule files: their loader takes every *.yaml in rules/.
RULES_FILE = Path(__file__).with_name("safety") / "disconnection.yaml"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class SafetyRulesError(ValueError):
    pass


@dataclass(frozen=True)
class PrepaidRules:
    """Automatic disconnection and alerts of prepaid accounts (the `prepaid:` section)."""

    low_balance_days: tuple[int, ...] = (3,)  # a notice when the balance lasts fewer days than each
    zero_alert: bool = True  # a notice when the balance reaches zero
    negative_limit_inr: Decimal = Decimal(0)  # disconnect when the balance is below minus this
    emergency_credit_inr: Decimal = Decimal(0)  # once per crossing, before a disconnection; 0: none
    reconnect_above_inr: Decimal = Decimal(0)  # a top-up reconnects when the balance is above this
    average_days: int = 7  # days of daily charges the average use is taken over


@dataclass(frozen=True)
class SafetyRules:
    zone: ZoneInfo
    start: time
    end: time
    closed_days: frozenset[int]  # weekday numbers, Monday 0
    daily_cap: int
    holidays: dict[str, frozenset[date]] = field(default_factory=dict)
    prepaid: PrepaidRules = field(default_factory=lambda: PrepaidRules())

    def allowed_day(self, discom: str, day: date) -> bool:
        return day.weekday() not in self.closed_days and day not in self.holidays.get(discom, frozenset())

    def next_window(self, discom: str, now: datetime, *, skip_today: bool = False) -> datetime:
        """The earliest instant at or after `now` when a disconnection may go out (aware UTC in,
        aware out). `skip_today`: today's cap is used up, start from tomorrow."""
        local = now.astimezone(self.zone)
        day = local.date()
        for offset in range(60):
            candidate = day + timedelta(days=offset)
            if offset == 0 and (skip_today or local.time() >= self.end):
                continue
            if not self.allowed_day(discom, candidate):
                continue
            opens = datetime.combine(candidate, self.start, self.zone)
            return max(opens, local) if offset == 0 else opens
        raise SafetyRulesError("no allowed day in the next 60 days: check the holiday calendar")

    def day_of(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()


def _time(raw: Any, name: str) -> time:
    try:
        hours, minutes = str(raw).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise SafetyRulesError(f"{name}: expected HH:MM, got {raw!r}") from None


def parse(text: str) -> SafetyRules:
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise SafetyRulesError("the file must be a mapping")
    hours = data.get("working_hours") or {}
    start, end = (
        _time(hours.get("start"), "working_hours.start"),
        _time(hours.get("end"), "working_hours.end"),
    )
    if start >= end:
        raise SafetyRulesError("working_hours: start must be before end")
    closed = set()
    for day in data.get("no_disconnection_on") or []:
        if str(day).lower() not in DAYS:
            raise SafetyRulesError(f"no_disconnection_on: {day!r} is not a day of the week")
        closed.add(DAYS.index(str(day).lower()))
    cap = data.get("daily_cap_per_division")
    if not isinstance(cap, int) or cap < 1:
        raise SafetyRulesError("daily_cap_per_division: a positive whole number")
    holidays: dict[str, frozenset[date]] = {}
    for discom, days in (data.get("holidays") or {}).items():
        try:
            holidays[str(discom)] = frozenset(date.fromisoformat(str(d)) for d in days or [])
        except ValueError as exc:
            raise SafetyRulesError(f"holidays.{discom}: {exc}") from None
    return SafetyRules(
        ZoneInfo(str(data.get("timezone") or "Asia/Kolkata")), start, end, frozenset(closed), cap, holidays,
        _prepaid(data.get("prepaid")),
    )  # fmt: skip


def _inr(raw: Any, name: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise SafetyRulesError(f"prepaid.{name}: an amount in rupees, got {raw!r}") from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise SafetyRulesError(
            f"prepaid.{name}: a non-negative amount with at most two decimals, got {raw!r}"
        )
    return value


def _prepaid(raw: Any) -> PrepaidRules:
    if raw is None:
        return PrepaidRules()
    if not isinstance(raw, dict):
        raise SafetyRulesError("prepaid: a mapping")
    unknown = sorted(set(raw) - set(PrepaidRules.__dataclass_fields__))
    if unknown:
        raise SafetyRulesError(f"prepaid: unknown setting(s) {', '.join(map(str, unknown))}")
    days = raw.get("low_balance_days", [3])
    if not isinstance(days, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in days
    ):
        raise SafetyRulesError("prepaid.low_balance_days: a list of positive whole numbers of days")
    average = raw.get("average_days", 7)
    if not isinstance(average, int) or isinstance(average, bool) or not 1 <= average <= 90:
        raise SafetyRulesError("prepaid.average_days: a whole number from 1 to 90")
    zero = raw.get("zero_alert", True)
    if not isinstance(zero, bool):
        raise SafetyRulesError("prepaid.zero_alert: true or false")
    return PrepaidRules(
        tuple(sorted(set(days), reverse=True)), zero,
        _inr(raw.get("negative_limit_inr", 0), "negative_limit_inr"),
        _inr(raw.get("emergency_credit_inr", 0), "emergency_credit_inr"),
        _inr(raw.get("reconnect_above_inr", 0), "reconnect_above_inr"),
        average,
    )  # fmt: skip


def load(path: Path = RULES_FILE) -> SafetyRules:
    return parse(path.read_text(encoding="utf-8"))
