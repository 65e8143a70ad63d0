"""IEC 61968-9 ReadingType: the 18-field code decoded into our channel, interval, unit and scale.

macroPeriod.aggregate.measuringPeriod.accumulation.flowDirection.commodity.measurementKind.
interharmonicNum.interharmonicDen.argumentNum.argumentDen.tou.cpp.consumptionTier.phases.
multiplier.unit.currency (REFERENCE §4). What we store is a catalogue in `reading_types.csv`
(data, not code), read once; a code no row matches is refused by name, never guessed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CATALOGUE_FILE = Path(__file__).with_name("reading_types.csv")
# measuringPeriod (TimeAttributeKind) -> minutes
MEASURING_PERIOD_MINUTES = {1: 10, 2: 15, 3: 1, 5: 30, 6: 5, 7: 60}
PERIOD_CODE = {minutes: code for code, minutes in MEASURING_PERIOD_MINUTES.items()}
DAY_PERIOD, DAILY_MACRO = 4, 11
# macroPeriod -> register kind: none (a snapshot), billingPeriod, daily, monthly
MACRO_REGISTER_KIND = {0: "instant", 8: "billing", 11: "daily", 13: "billing"}
REGISTER_MACRO = {"instant": 0, "billing": 8, "daily": 11}
FIELDS = ("macro", "measuring", "accumulation", "flow", "kind", "phases", "unit")
_POSITION = {"macro": 0, "measuring": 2, "accumulation": 3, "flow": 4, "kind": 6, "phases": 14, "unit": 16}


@dataclass(frozen=True)
class Decoded:
    """What a reading type means to us: an interval channel or a register channel."""

    target: str  # "interval" | "register"
    channel: str
    interval_minutes: int = 0
    register_kind: str = ""
    tod_zone: int = 0
    scale: float = 1.0  # multiply the sent value by this to get our unit (kWh, V, A, ...)


@dataclass(frozen=True)
class _Row:
    target: str
    channel: str
    register_kind: str
    match: dict[str, frozenset[int] | str | None]  # None = any; a str = "interval" / "none" / "day"
    kilo: bool


def _values(text: str, field: str) -> frozenset[int] | str | None:
    text = text.strip()
    if text == "*":
        return None
    if field == "measuring" and text in ("interval", "none", "day"):
        return text
    return frozenset(int(v) for v in text.split("|"))


@lru_cache(maxsize=1)
def catalogue(path: Path = CATALOGUE_FILE) -> tuple[_Row, ...]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return tuple(
        _Row(
            target=row["target"],
            channel=row["channel"],
            register_kind=row["register_kind"],
            match={f: _values(row[f], f) for f in FIELDS},
            kilo=row["scale"] == "kilo",
        )
        for row in csv.DictReader(lines)
    )


def _matches(row: _Row, f: list[int]) -> bool:
    for name, wanted in row.match.items():
        value = f[_POSITION[name]]
        if wanted is None:
            continue
        if wanted == "interval":
            if value not in MEASURING_PERIOD_MINUTES:
                return False
        elif wanted == "none":
            if value != 0:
                return False
        elif wanted == "day":
            if not (value == DAY_PERIOD or (value == 0 and f[0] == DAILY_MACRO)):
                return False
        elif value not in wanted:  # type: ignore[operator]
            return False
    return True


@lru_cache(maxsize=4096)
def decode(ref: str) -> Decoded | str:
    """A ReadingType mRID -> Decoded, or the reason it is refused."""
    parts = ref.strip().split(".")
    if len(parts) != 18:
        return f"reading type {ref!r} does not have 18 dot-separated fields"
    try:
        f = [int(p) for p in parts]
    except ValueError:
        return f"reading type {ref!r} has a non-numeric field"
    macro, measuring, tou, multiplier = f[0], f[2], f[11], f[15]
    for row in catalogue():
        if not _matches(row, f):
            continue
        scale = 10.0 ** (multiplier - 3) if row.kilo else 10.0**multiplier
        if row.target == "interval":
            minutes = 1440 if row.match["measuring"] == "day" else MEASURING_PERIOD_MINUTES[measuring]
            return Decoded("interval", row.channel, minutes, scale=scale)
        if not 0 <= tou <= 8:
            return f"reading type {ref} has TOU {tou}; TOD zones are 0..8"
        kind = MACRO_REGISTER_KIND[macro] if row.register_kind == "macro" else row.register_kind
        minutes = MEASURING_PERIOD_MINUTES.get(measuring, 0)
        return Decoded("register", row.channel, minutes, kind, tou, scale)
    return f"unknown reading type {ref} (not a channel we store)"


def encode_interval(channel: str, minutes: int) -> str:
    """Our interval channel -> the ReadingType mRID we write (simulator, documentation)."""
    return _encode(channel, "interval", f"0.{{agg}}.{PERIOD_CODE[minutes]}.{{acc}}")


def encode_register(channel: str, register_kind: str, tod_zone: int = 0) -> str:
    macro = REGISTER_MACRO[register_kind]
    encoded = _encode(channel, "register", f"{macro}.{{agg}}.0.{{acc}}", tod_zone)
    if encoded is None:
        raise ValueError(f"no reading type for register channel {channel!r}")
    return encoded


def _first(match: dict[str, frozenset[int] | str | None], name: str, default: int = 0) -> int:
    wanted = match[name]
    return min(wanted) if isinstance(wanted, frozenset) else default


def _encode(channel: str, target: str, head: str, tou: int = 0) -> str:
    for row in catalogue():
        if row.target != target or row.channel != channel:
            continue
        if target == "register" and row.register_kind != "macro":
            continue  # registers we write are read once per day / billing period, not sampled
        m = row.match
        accumulation = _first(m, "accumulation", 6)
        kind = _first(m, "kind")
        aggregate = 8 if kind == 8 else (2 if accumulation == 12 else 0)  # maximum / average
        flow = max(m["flow"]) if isinstance(m["flow"], frozenset) else 0  # quadrant codes over 2/3
        multiplier = 3 if row.kilo else 0
        tail = f".{flow}.1.{kind}.0.0.0.0.{tou}.0.0.{_first(m, 'phases')}.{multiplier}.{_first(m, 'unit')}.0"
        return head.format(agg=aggregate, acc=accumulation) + tail
    raise ValueError(f"no reading type for {target} channel {channel!r}")
