"""Feeder and DT energy from SCADA / SHMS / MDAS, JSON or CSV -> CanonicalBatch.network.

JSON: {"message_id", "source", "energy": [{"kind": "feeder"|"dtr", "code", "interval_minutes",
"values": [{"end", "kwh", ...}]}]}. CSV (header required, one value per line):
kind,code,interval_end,interval_minutes,channel,value.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from integrations.canonical import CanonicalBatch, NetworkEnergy, ParseError, Reject
from integrations.parsing import (
    INTERVAL_CHANNEL_CODE,
    VALID_INTERVAL_MINUTES,
    IntervalBuilder,
    iso_to_epoch,
    iso_to_epoch_one,
    now_epoch,
)

KINDS = ("feeder", "dtr")
CSV_COLUMNS = ("kind", "code", "interval_end", "interval_minutes", "channel", "value")
_SEP = "\x1f"


def _to_network(intervals: IntervalBuilder, rejects: list[Reject], now: int) -> NetworkEnergy:
    built = intervals.build(rejects, now)
    for i, reject in enumerate(rejects):
        if reject.meter and _SEP in reject.meter:
            rejects[i] = Reject(
                reject.locator, reject.field, reject.reason, reject.meter.split(_SEP)[1], reject.timestamp
            )
    if len(built) == 0:
        return NetworkEnergy()
    kind_code = np.array([s.split(_SEP) for s in built.meter.tolist()], dtype=object).reshape(-1, 2)
    return NetworkEnergy(
        kind=kind_code[:, 0],
        code=kind_code[:, 1],
        channel=built.channel,
        interval_end=built.interval_end,
        value=built.value,
        interval_minutes=built.interval_minutes,
    )


def parse_energy_json(body: bytes | str, *, now: int | None = None) -> CanonicalBatch:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ParseError(f"not valid JSON: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("energy"), list):
        raise ParseError("the message must be an object with an 'energy' list")
    source = message.get("source") if isinstance(message.get("source"), str) else "scada"
    batch = CanonicalBatch(source=f"scada:{source}", message_id=message.get("message_id"))
    intervals = IntervalBuilder()
    for b, block in enumerate(message["energy"]):
        where = f"energy[{b}]"
        if not isinstance(block, dict):
            batch.rejects.append(Reject(where, "energy", "each block must be an object"))
            continue
        kind, code, minutes = block.get("kind"), block.get("code"), block.get("interval_minutes")
        values = block.get("values")
        if kind not in KINDS:
            batch.rejects.append(Reject(where, "kind", f"kind must be one of {KINDS}", code))
            continue
        if not isinstance(code, str) or not code.strip():
            batch.rejects.append(Reject(where, "code", "missing feeder/DTR code"))
            continue
        if type(minutes) is not int or minutes not in VALID_INTERVAL_MINUTES:
            batch.rejects.append(
                Reject(where, "interval_minutes", f"must be one of {VALID_INTERVAL_MINUTES}", code)
            )
            continue
        if not isinstance(values, list):
            batch.rejects.append(Reject(where, "values", "'values' must be a list", code))
            continue
        ends_text = [row.get("end") if isinstance(row, dict) else None for row in values]
        ends, bad = iso_to_epoch(ends_text)
        bad_rows = set(bad)
        intervals.segment(f"{kind}{_SEP}{code}", minutes, f"{where}.values")
        for p, row in enumerate(values):
            loc = f"{where}.values[{p}]"
            if p in bad_rows:
                batch.rejects.append(Reject(loc, "end", f"unreadable timestamp {ends_text[p]!r}", code))
                continue
            for key, raw in row.items():
                if key == "end":
                    continue
                channel = INTERVAL_CHANNEL_CODE.get(key)
                if channel is None:
                    batch.rejects.append(Reject(loc, key, f"unknown parameter {key!r}", code, ends_text[p]))
                elif type(raw) is float or type(raw) is int:
                    intervals.channel.append(channel)
                    intervals.end.append(ends[p])
                    intervals.value.append(raw)
                    intervals.pos.append(p)
                else:
                    batch.rejects.append(Reject(loc, key, f"not a number: {raw!r}", code, ends_text[p]))
    batch.network = _to_network(intervals, batch.rejects, now_epoch() if now is None else now)
    return batch


def parse_energy_csv(body: bytes | str, *, now: int | None = None, source: str = "scada") -> CanonicalBatch:
    text = _text(body)
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise ParseError(
            f"CSV header must have the columns {', '.join(CSV_COLUMNS)}; missing {', '.join(missing)}"
        )
    col = {name: header.index(name) for name in CSV_COLUMNS}
    batch = CanonicalBatch(source=f"scada:{source}")
    intervals = IntervalBuilder()
    for line_no, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        loc = f"line {line_no}"
        if len(row) < len(header):
            batch.rejects.append(Reject(loc, "line", f"expected {len(header)} columns, got {len(row)}"))
            continue
        kind, code, end_text, minutes_text, channel_name, value_text = (
            row[col[c]].strip() for c in CSV_COLUMNS
        )
        problem = _csv_problem(kind, code, end_text, minutes_text, channel_name, value_text)
        if problem:
            field, reason = problem
            batch.rejects.append(Reject(loc, field, reason, code or None, end_text or None))
            continue
        intervals.segment(f"{kind}{_SEP}{code}", int(minutes_text), "line")
        intervals.channel.append(INTERVAL_CHANNEL_CODE[channel_name])
        intervals.end.append(iso_to_epoch_one(end_text))  # type: ignore[arg-type]
        intervals.value.append(float(value_text))
        intervals.pos.append(line_no)
    batch.network = _to_network(intervals, batch.rejects, now_epoch() if now is None else now)
    return batch


def _csv_problem(
    kind: str, code: str, end_text: str, minutes_text: str, channel: str, value_text: str
) -> tuple[str, str] | None:
    if kind not in KINDS:
        return "kind", f"kind must be one of {KINDS}"
    if not code:
        return "code", "missing feeder/DTR code"
    if iso_to_epoch_one(end_text) is None:
        return "interval_end", f"unreadable timestamp {end_text!r} (ISO 8601 with a UTC offset)"
    if not minutes_text.isdigit() or int(minutes_text) not in VALID_INTERVAL_MINUTES:
        return "interval_minutes", f"must be one of {VALID_INTERVAL_MINUTES}"
    if channel not in INTERVAL_CHANNEL_CODE:
        return "channel", f"unknown channel {channel!r}"
    try:
        float(value_text)
    except ValueError:
        return "value", f"not a number: {value_text!r}"
    return None


def _text(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"CSV is not UTF-8: {exc}") from None
