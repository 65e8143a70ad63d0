"""HES push JSON (our format, docs/integrations.md): profiles and events of many meters per request.

Readings: {"message_id", "hes", "readings": [{"meter", "profile", "interval_minutes", "values": [...]}]}
with profiles block_load (per-interval values keyed by "end"), daily, billing (with "tod" zones and
MD times) and instantaneous (register snapshots keyed by "at"). Events: {"message_id", "hes",
"events": [{"meter", "code", "occurred_at", "restored_at", "snapshot"}]} with IS 15959 codes.
"""

from __future__ import annotations

import json
from typing import Any

from integrations.canonical import REGISTER_CHANNELS, CanonicalBatch, ParseError, Reject
from integrations.is15959 import EVENT_CODES
from integrations.parsing import (
    INTERVAL_CHANNEL_CODE,
    VALID_INTERVAL_MINUTES,
    EventBuilder,
    IntervalBuilder,
    RegisterBuilder,
    iso_to_epoch,
    iso_to_epoch_one,
    now_epoch,
)

PROFILES = ("block_load", "daily", "billing", "instantaneous")
_REGISTER_KIND = {"daily": "daily", "billing": "billing", "instantaneous": "instant"}
_MD_TIME_KEYS = {"md_kw_at": "md_kw", "md_kva_at": "md_kva"}


def _load(body: bytes | str, list_key: str) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ParseError(f"not valid JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ParseError("the message must be a JSON object")
    if not isinstance(message.get("hes"), str) or not message["hes"].strip():
        raise ParseError("'hes' (the sending head-end system's code) is required")
    if not isinstance(message.get(list_key), list):
        raise ParseError(f"'{list_key}' must be a list")
    message_id = message.get("message_id")
    if message_id is not None and not isinstance(message_id, str):
        raise ParseError("'message_id' must be a string")
    return message


def parse_readings(body: bytes | str, *, now: int | None = None) -> CanonicalBatch:
    """Parse a readings push; raises ParseError only when the message as a whole is unreadable."""
    message = _load(body, "readings")
    now = now_epoch() if now is None else now
    batch = CanonicalBatch(source=f"hes:{message['hes']}", message_id=message.get("message_id"))
    intervals = IntervalBuilder()
    registers = RegisterBuilder()
    rejects = batch.rejects
    for b, block in enumerate(message["readings"]):
        where = f"readings[{b}]"
        if not isinstance(block, dict):
            rejects.append(Reject(where, "readings", "each reading block must be an object"))
            continue
        meter = block.get("meter")
        profile = block.get("profile")
        values = block.get("values")
        if not isinstance(meter, str) or not meter.strip():
            rejects.append(Reject(where, "meter", "missing meter serial number"))
            continue
        if profile not in PROFILES:
            rejects.append(
                Reject(where, "profile", f"unknown profile {profile!r}; expected one of {PROFILES}", meter)
            )
            continue
        if not isinstance(values, list):
            rejects.append(Reject(where, "values", "'values' must be a list", meter))
            continue
        if profile == "block_load":
            _block_load(block, meter, values, where, intervals, rejects)
        else:
            _registers(_REGISTER_KIND[profile], meter, values, where, registers, rejects)
    batch.intervals = intervals.build(rejects, now)
    batch.registers = registers.build(rejects, now)
    return batch


def _block_load(
    block: dict[str, Any],
    meter: str,
    values: list[Any],
    where: str,
    intervals: IntervalBuilder,
    rejects: list[Reject],
) -> None:
    minutes = block.get("interval_minutes")
    if type(minutes) is not int or minutes not in VALID_INTERVAL_MINUTES:
        rejects.append(
            Reject(
                where, "interval_minutes", f"interval_minutes must be one of {VALID_INTERVAL_MINUTES}", meter
            )
        )
        return
    ends_text = [row.get("end") if type(row) is dict else None for row in values]
    ends, bad = iso_to_epoch(ends_text)
    bad_rows = set(bad)
    prefix = f"{where}.values"
    intervals.segment(meter, minutes, prefix)
    codes = INTERVAL_CHANNEL_CODE
    channel_out, end_out, value_out, pos_out = (
        intervals.channel,
        intervals.end,
        intervals.value,
        intervals.pos,
    )
    for p, row in enumerate(values):
        if p in bad_rows:
            if type(row) is not dict:
                rejects.append(Reject(f"{prefix}[{p}]", "values", "each value must be an object", meter))
            else:
                rejects.append(
                    Reject(
                        f"{prefix}[{p}]",
                        "end",
                        f"unreadable timestamp {row.get('end')!r} (ISO 8601 with a UTC offset)",
                        meter,
                    )
                )
            continue
        end = ends[p]
        for key, raw in row.items():
            if key == "end":
                continue
            code = codes.get(key)
            if code is None:
                rejects.append(
                    Reject(f"{prefix}[{p}]", key, f"unknown parameter {key!r}", meter, ends_text[p])
                )
            elif type(raw) is float or type(raw) is int:
                channel_out.append(code)
                end_out.append(end)
                value_out.append(raw)
                pos_out.append(p)
            else:
                rejects.append(Reject(f"{prefix}[{p}]", key, f"not a number: {raw!r}", meter, ends_text[p]))


def _number(raw: Any) -> float | None:
    return float(raw) if type(raw) is float or type(raw) is int else None


def _registers(
    kind: str,
    meter: str,
    values: list[Any],
    where: str,
    registers: RegisterBuilder,
    rejects: list[Reject],
) -> None:
    for p, row in enumerate(values):
        loc = f"{where}.values[{p}]"
        if not isinstance(row, dict):
            rejects.append(Reject(loc, "values", "each value must be an object", meter))
            continue
        read_at = iso_to_epoch_one(row.get("at"))
        if read_at is None:
            rejects.append(Reject(loc, "at", f"unreadable timestamp {row.get('at')!r}", meter))
            continue
        zones: list[tuple[int, dict[str, Any], str]] = [(0, row, loc)]
        tod = row.get("tod", [])
        if kind == "billing" and isinstance(tod, list):
            for z, zone in enumerate(tod):
                zone_loc = f"{loc}.tod[{z}]"
                number = zone.get("zone") if isinstance(zone, dict) else None
                if type(number) is not int or not 1 <= number <= 8:
                    rejects.append(
                        Reject(zone_loc, "zone", "TOD zone must be an integer 1..8", meter, row.get("at"))
                    )
                    continue
                zones.append((number, zone, zone_loc))
        elif "tod" in row:
            rejects.append(
                Reject(loc, "tod", "TOD zones belong to the billing profile as a list", meter, row.get("at"))
            )
        for zone_number, source, zone_loc in zones:
            for key, raw in source.items():
                if key in ("at", "tod", "zone") or key in _MD_TIME_KEYS:
                    continue
                if key not in REGISTER_CHANNELS:
                    rejects.append(Reject(zone_loc, key, f"unknown parameter {key!r}", meter, row.get("at")))
                    continue
                value = _number(raw)
                if value is None:
                    rejects.append(Reject(zone_loc, key, f"not a number: {raw!r}", meter, row.get("at")))
                    continue
                occurred = None
                time_key = f"{key}_at"
                if time_key in source:
                    occurred = iso_to_epoch_one(source[time_key])
                    if occurred is None:
                        rejects.append(
                            Reject(
                                zone_loc,
                                time_key,
                                f"unreadable timestamp {source[time_key]!r}",
                                meter,
                                row.get("at"),
                            )
                        )
                        continue
                registers.add(zone_loc, meter, kind, key, zone_number, read_at, value, occurred)


def parse_events(body: bytes | str, *, now: int | None = None) -> CanonicalBatch:
    """Parse an events push (IS 15959 codes)."""
    message = _load(body, "events")
    now = now_epoch() if now is None else now
    batch = CanonicalBatch(source=f"hes:{message['hes']}", message_id=message.get("message_id"))
    events = EventBuilder()
    for i, row in enumerate(message["events"]):
        loc = f"events[{i}]"
        if not isinstance(row, dict):
            batch.rejects.append(Reject(loc, "events", "each event must be an object"))
            continue
        meter = row.get("meter")
        if not isinstance(meter, str) or not meter.strip():
            batch.rejects.append(Reject(loc, "meter", "missing meter serial number"))
            continue
        code = row.get("code")
        occurred_text = row.get("occurred_at")
        if type(code) is not int or code not in EVENT_CODES:
            batch.rejects.append(
                Reject(loc, "code", f"unknown IS 15959 event code {code!r}", meter, occurred_text)
            )
            continue
        occurred = iso_to_epoch_one(occurred_text)
        if occurred is None:
            batch.rejects.append(Reject(loc, "occurred_at", f"unreadable timestamp {occurred_text!r}", meter))
            continue
        restored = None
        if row.get("restored_at") is not None:
            restored = iso_to_epoch_one(row["restored_at"])
            if restored is None:
                batch.rejects.append(
                    Reject(
                        loc,
                        "restored_at",
                        f"unreadable timestamp {row['restored_at']!r}",
                        meter,
                        occurred_text,
                    )
                )
                continue
        snapshot = row.get("snapshot") or {}
        if not isinstance(snapshot, dict) or any(_number(v) is None for v in snapshot.values()):
            batch.rejects.append(
                Reject(loc, "snapshot", "snapshot must map names to numbers", meter, occurred_text)
            )
            continue
        events.add(loc, meter, code, occurred, restored, snapshot)
    batch.events = events.build(batch.rejects, now)
    return batch
