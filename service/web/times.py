"""Times shown to people: Asia/Kolkata with its zone ("08:29 IST"), the one `ist` template filter.

Storage and the API stay UTC / ISO 8601 with an offset; only what a person reads is converted here.
Dates a person picks (`<input type="date">`) are IST days; `ist_day_bounds` turns one into UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

IST = ZoneInfo("Asia/Kolkata")
ZONE_LABEL = "IST"
STYLES = {
    "short": "%d %b %H:%M",  # lists: the year is rarely in doubt
    "datetime": "%d %b %Y %H:%M",
    "seconds": "%d %b %Y %H:%M:%S",
    "time": "%H:%M",
}


def to_ist(value: datetime | str | None) -> datetime | None:
    """An aware datetime in IST; a naive value is taken as UTC (how the database stores it)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(IST)


def format_ist(value: datetime | date | str | None, style: str = "short") -> str:
    """Plain text for a person: "02 Dec 08:29 IST"; a date alone has no zone ("02 Dec 2026")."""
    if value is None or value == "":
        return ""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%d %b %Y")
    local = to_ist(value)
    assert local is not None
    return f"{local.strftime(STYLES[style])} {ZONE_LABEL}"


def iso_ist(value: datetime | str | None) -> str:
    """ISO 8601 with the +05:30 offset, for `datetime` attributes and exports."""
    local = to_ist(value)
    return local.isoformat() if local is not None else ""


def ist_filter(value: datetime | date | str | None, style: str = "short") -> Markup:
    """`{{ x|ist }}`: a <time> element whose text is IST with its zone and whose datetime is ISO."""
    if value is None or value == "":
        return Markup("")
    if isinstance(value, date) and not isinstance(value, datetime):
        return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), format_ist(value))
    return Markup('<time datetime="{}">{}</time>').format(iso_ist(value), escape(format_ist(value, style)))


def ist_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of an IST calendar day."""
    start = datetime.combine(day, time(0), tzinfo=IST)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def ist_today(now: datetime) -> date:
    return now.astimezone(IST).date()
