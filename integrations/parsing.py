"""Shared machinery of the format parsers: hostile-XML-proof expat, timestamps, column builders.

Parsers append plain Python scalars to column lists while they walk a message, then
`IntervalBuilder.build` turns them into numpy arrays once and runs the checks every format
shares (finite values, the interval grid, future timestamps, duplicates inside one message)
vectorised, so no Python object is made per reading and no bad row is dropped unreported.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import TreeBuilder

import numpy as np
import numpy.typing as npt
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from integrations.canonical import (
    DT64,
    INTERVAL_CHANNELS,
    REGISTER_CHANNELS,
    Events,
    Intervals,
    ParseError,
    Registers,
    Reject,
)

IST_OFFSET_SECONDS = 19_800  # Asia/Kolkata is UTC+05:30 all year (no DST)
FUTURE_TOLERANCE_SECONDS = 300  # REFERENCE §6: more than 5 minutes ahead is a future timestamp
DEFAULT_MAX_XML_BYTES = 64 * 1024 * 1024
INTERVAL_CHANNEL_NAMES: tuple[str, ...] = tuple(INTERVAL_CHANNELS)
INTERVAL_CHANNEL_CODE: dict[str, int] = {name: i for i, name in enumerate(INTERVAL_CHANNEL_NAMES)}
VALID_INTERVAL_MINUTES = (1, 5, 10, 15, 30, 60)


def now_epoch() -> int:
    return int(time.time())


def epoch_to_iso(epoch: int) -> str:
    return str(np.datetime64(int(epoch), "s")) + "Z"


# ---------------------------------------------------------------------------------------- XML


def expat_parser(data: bytes, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> Any:
    """A pyexpat parser with defusedxml's guards installed (no DTD, entities or external refs).

    Callers set Start/End/CharacterData handlers themselves: a handler per element is ~2x
    faster than building an ElementTree. Element names arrive as "namespace}local".
    """
    if len(data) > max_bytes:
        raise ParseError(f"document is {len(data)} bytes, over the limit of {max_bytes}", "too_large")
    if not data.strip():
        raise ParseError("empty document")
    guard = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser = guard.parser
    parser.ordered_attributes = False
    parser.buffer_text = True
    parser.CommentHandler = None
    parser.ProcessingInstructionHandler = None
    parser.StartNamespaceDeclHandler = None
    parser.EndNamespaceDeclHandler = None
    parser.DefaultHandlerExpand = None
    parser.StartElementHandler = None
    parser.EndElementHandler = None
    parser.CharacterDataHandler = None
    return parser


def run_expat(parser: Any, data: bytes) -> None:
    """Parse, translating every refusal into a ParseError with a reason a sender can act on."""
    try:
        parser.Parse(data, True)
    except DTDForbidden:
        raise ParseError("document type declarations (DTD) are not accepted", "forbidden_xml") from None
    except EntitiesForbidden:
        raise ParseError(
            "entity declarations are not accepted (possible entity-expansion bomb)", "forbidden_xml"
        ) from None
    except ExternalReferenceForbidden:
        raise ParseError("external entity references are not accepted", "forbidden_xml") from None
    except ParseError:
        raise
    except Exception as exc:  # noqa: BLE001 - expat raises ExpatError; handlers may raise anything
        raise ParseError(f"not well-formed XML: {exc}") from None


def parse_tree(data: bytes, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> Any:
    """A small document as an ElementTree root, through defusedxml, with the same refusals."""
    parser = expat_parser(data, max_bytes)
    builder = TreeBuilder()
    parser.StartElementHandler = lambda name, attrs: builder.start(local_name(name), attrs)
    parser.EndElementHandler = lambda name: builder.end(local_name(name))
    parser.CharacterDataHandler = builder.data
    run_expat(parser, data)
    return builder.close()


def local_name(name: str) -> str:
    return name[name.rfind("}") + 1 :]


# --------------------------------------------------------------------------------- timestamps

_OFFSETS: dict[str, int] = {"Z": 0, "+00:00": 0, "+05:30": IST_OFFSET_SECONDS}


def _offset_seconds(tail: str) -> int | None:
    known = _OFFSETS.get(tail)
    if known is not None:
        return known
    if tail[:1] == "." and len(tail) > 1:
        # "06:45:00.000+08:00" as real HES write it: zero fractions keep the fast path.
        digits = len(tail) - len(tail[1:].lstrip("0123456789")) - 1
        if digits and tail[1 : 1 + digits].strip("0") == "":
            seconds = _offset_seconds(tail[1 + digits :])
            if seconds is not None:
                _OFFSETS[tail] = seconds
            return seconds
        return None
    if len(tail) == 6 and tail[0] in "+-" and tail[3] == ":" and tail[1:3].isdigit() and tail[4:].isdigit():
        seconds = int(tail[1:3]) * 3600 + int(tail[4:]) * 60
        seconds = -seconds if tail[0] == "-" else seconds
        _OFFSETS[tail] = seconds
        return seconds
    return None


def iso_to_epoch_one(text: Any) -> int | None:
    """One ISO 8601 timestamp with a UTC offset -> epoch seconds; None if unreadable or naive."""
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return int(parsed.timestamp())


def iso_to_epoch(texts: Sequence[Any]) -> tuple[list[int], list[int]]:
    """Many ISO 8601 timestamps with offsets -> (epoch seconds, indices that did not parse).

    Fast path: numpy parses the "YYYY-MM-DDTHH:MM:SS" heads in C and the offset is looked up
    per distinct suffix; anything unusual (fractions, odd offsets, junk) falls back to
    `datetime.fromisoformat` per item.
    """
    n = len(texts)
    if n == 0:
        return [], []
    try:
        heads = [t[:19] for t in texts]
        tails = [t[19:] for t in texts]
        if {len(h) for h in heads} != {19} or any(h[10] != "T" for h in heads[:: max(1, n // 64)]):
            raise ValueError("irregular")
        # Few distinct offsets per message: look each up once.
        by_tail = {tail: _offset_seconds(tail) for tail in set(tails)}
        if None in by_tail.values():
            raise ValueError("irregular")
        offsets = [by_tail[t] for t in tails]
        if None in offsets:
            raise ValueError("irregular")
        base = np.array(heads, dtype=DT64).astype(np.int64)
        if np.any(np.isnat(base.view(DT64))):
            raise ValueError("irregular")
        return (base - np.array(offsets, dtype=np.int64)).tolist(), []
    except (TypeError, ValueError):
        pass
    out: list[int] = []
    bad: list[int] = []
    for i, text in enumerate(texts):
        epoch = iso_to_epoch_one(text)
        if epoch is None:
            bad.append(i)
            out.append(0)
        else:
            out.append(epoch)
    return out, bad


def ist_text_to_epoch(text: str | None) -> int | None:
    """'dd-MM-yyyy HH:mm:ss' (or 'dd-MM-yyyy HH:mm', or 'dd-MM-yyyy') in IST -> UTC epoch."""
    if not text:
        return None
    text = text.strip()
    try:
        day, month, year = text[0:2], text[3:5], text[6:10]
        if text[2] not in "-/." or text[5] != text[2]:
            return None
        clock = text[11:].strip() or "00:00:00"
        if len(clock) == 5:
            clock += ":00"
        local = np.datetime64(f"{year}-{month}-{day}T{clock}", "s")
    except (ValueError, IndexError):
        return None
    if np.isnat(local):
        return None
    return int(local.astype(np.int64)) - IST_OFFSET_SECONDS


def ist_date_to_epoch(text: str | None) -> int | None:
    """'dd-MM-yyyy' -> the UTC epoch of that day's local (IST) midnight."""
    if not text or len(text.strip()) != 10:
        return None
    return ist_text_to_epoch(text.strip()[:10])


# ----------------------------------------------------------------------------- column builders


class IntervalBuilder:
    """Interval values collected in segments (one meter and period each) then checked at once.

    Per value the parser appends to `channel` (code into INTERVAL_CHANNEL_NAMES), `end`
    (epoch seconds, UTC), `value` (float) and `pos` (its index for the locator); per segment
    it calls `segment(meter, minutes, locator_prefix)`.
    """

    def __init__(self) -> None:
        self.seg_meter: list[str] = []
        self.seg_minutes: list[int] = []
        self.seg_start: list[int] = []
        self.seg_locator: list[str] = []
        self.channel: list[int] = []
        self.end: list[int] = []
        self.value: list[float] = []
        self.pos: list[int] = []

    def segment(self, meter: str, minutes: int, locator_prefix: str) -> None:
        self.seg_meter.append(meter)
        self.seg_minutes.append(minutes)
        self.seg_start.append(len(self.value))
        self.seg_locator.append(locator_prefix)

    def build(
        self,
        rejects: list[Reject],
        now: int,
        grid_offset_seconds: int = IST_OFFSET_SECONDS,
    ) -> Intervals:
        n = len(self.value)
        if n == 0:
            return Intervals()
        starts = np.array(self.seg_start + [n], dtype=np.int64)
        lengths = np.diff(starts)
        seg_index = np.repeat(np.arange(len(self.seg_meter)), lengths)
        minutes = np.array(self.seg_minutes, dtype=np.int64)[seg_index]
        channel = np.array(self.channel, dtype=np.int64)
        end = np.array(self.end, dtype=np.int64)
        value = np.array(self.value, dtype=np.float64)
        # Meter codes by first appearance: segment meters repeat across a message.
        codes: dict[str, int] = {}
        seg_code = np.array([codes.setdefault(m, len(codes)) for m in self.seg_meter], dtype=np.int64)
        meter_code = seg_code[seg_index]

        problems: list[tuple[npt.NDArray[np.bool_], str]] = []
        not_finite = ~np.isfinite(value)
        problems.append((not_finite, "not a finite number"))
        # The grid is local (IST): hourly intervals end on local hours.
        off_grid = ((end + grid_offset_seconds) % (minutes * 60)) != 0
        problems.append((off_grid & ~not_finite, "interval end is off the interval grid"))
        future = end > now + FUTURE_TOLERANCE_SECONDS
        problems.append((future & ~not_finite & ~off_grid, "timestamp is in the future"))
        bad = not_finite | off_grid | future
        good_index = np.flatnonzero(~bad)
        if len(good_index):
            base = int(end.min())
            key = (meter_code[good_index] * 64 + channel[good_index]) * (1 << 32) + (end[good_index] - base)
            _, first = np.unique(key, return_index=True)
            dup_local = np.ones(len(good_index), dtype=bool)
            dup_local[first] = False
            duplicate = np.zeros(n, dtype=bool)
            duplicate[good_index[dup_local]] = True
            problems.append((duplicate, "duplicate interval in this message (the first one is kept)"))
            bad |= duplicate
        for mask, reason in problems:
            for i in np.flatnonzero(mask).tolist():
                seg = int(seg_index[i])
                rejects.append(
                    Reject(
                        _locator(self.seg_locator[seg], self.pos[i]),
                        INTERVAL_CHANNEL_NAMES[int(channel[i])],
                        reason
                        if reason != "interval end is off the interval grid"
                        else f"interval end is off the {int(minutes[i])}-minute grid",
                        self.seg_meter[seg],
                        epoch_to_iso(int(end[i])),
                    )
                )
        keep = ~bad
        meters = np.array(self.seg_meter, dtype=object)
        names = np.array(INTERVAL_CHANNEL_NAMES, dtype=object)
        return Intervals(
            meter=meters[seg_index[keep]],
            channel=names[channel[keep]],
            interval_end=end[keep].astype(DT64),
            value=value[keep],
            interval_minutes=minutes[keep].astype(np.int16),
        )


def _locator(prefix: str, pos: int) -> str:
    return f"{prefix} {pos}" if prefix == "line" else f"{prefix}[{pos}]"


class RegisterBuilder:
    """Register reads, row by row (a few per meter and day, so plain lists are fine)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, int, int, float, int | None, str | None]] = []
        self.locators: list[str] = []

    def add(
        self,
        locator: str,
        meter: str,
        kind: str,
        channel: str,
        tod_zone: int,
        read_at: int,
        value: float,
        occurred_at: int | None = None,
        reading_status: str | None = None,
    ) -> None:
        self.rows.append((meter, kind, channel, tod_zone, read_at, value, occurred_at, reading_status))
        self.locators.append(locator)

    def build(self, rejects: list[Reject], now: int) -> Registers:
        seen: set[tuple[str, str, str, int, int]] = set()
        kept = []
        for locator, row in zip(self.locators, self.rows, strict=True):
            meter, kind, channel, zone, read_at, value, _, status = row
            if channel not in REGISTER_CHANNELS:
                reason = f"unknown register channel {channel!r}"
            elif value != value or value in (float("inf"), float("-inf")):
                reason = "not a finite number"
            elif read_at > now + FUTURE_TOLERANCE_SECONDS:
                reason = "timestamp is in the future"
            elif (meter, kind, channel, zone, read_at) in seen:
                reason = "duplicate register read in this message (the first one is kept)"
            else:
                seen.add((meter, kind, channel, zone, read_at))
                kept.append(row)
                continue
            rejects.append(Reject(locator, channel, reason, meter, epoch_to_iso(read_at)))
        if not kept:
            return Registers()
        meter_c, kind_c, channel_c, zone_c, read_c, value_c, occ_c, status_c = zip(*kept, strict=True)
        nat = np.iinfo(np.int64).min
        return Registers(
            meter=np.array(meter_c, dtype=object),
            kind=np.array(kind_c, dtype=object),
            channel=np.array(channel_c, dtype=object),
            tod_zone=np.array(zone_c, dtype=np.int16),
            read_at=np.array(read_c, dtype=np.int64).astype(DT64),
            value=np.array(value_c, dtype=np.float64),
            occurred_at=np.array([nat if o is None else o for o in occ_c], dtype=np.int64).astype(DT64),
            reading_status=np.array(status_c, dtype=object),
        )


class EventBuilder:
    """Meter events by IS 15959 code, row by row."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, int, int | None, dict[str, Any]]] = []
        self.locators: list[str] = []

    def add(
        self,
        locator: str,
        meter: str,
        code: int,
        occurred_at: int,
        restored_at: int | None = None,
        snapshot: dict[str, Any] | None = None,
    ) -> None:
        self.rows.append((meter, code, occurred_at, restored_at, snapshot or {}))
        self.locators.append(locator)

    def build(self, rejects: list[Reject], now: int) -> Events:
        seen: set[tuple[str, int, int]] = set()
        kept = []
        for locator, row in zip(self.locators, self.rows, strict=True):
            meter, code, occurred, restored, _ = row
            if occurred > now + FUTURE_TOLERANCE_SECONDS:
                reason = "timestamp is in the future"
            elif restored is not None and restored < occurred:
                reason = "restored before it occurred"
            elif (meter, code, occurred) in seen:
                reason = "duplicate event in this message (the first one is kept)"
            else:
                seen.add((meter, code, occurred))
                kept.append(row)
                continue
            rejects.append(Reject(locator, "occurred_at", reason, meter, epoch_to_iso(occurred)))
        if not kept:
            return Events()
        meter_c, code_c, occ_c, rest_c, snap_c = zip(*kept, strict=True)
        nat = np.iinfo(np.int64).min
        return Events(
            meter=np.array(meter_c, dtype=object),
            code=np.array(code_c, dtype=np.int32),
            occurred_at=np.array(occ_c, dtype=np.int64).astype(DT64),
            restored_at=np.array([nat if r is None else r for r in rest_c], dtype=np.int64).astype(DT64),
            snapshot=list(snap_c),
        )


def to_float(raw: Any) -> float | None:
    """A reading from text or JSON: numbers and numeric strings; None for anything else."""
    if type(raw) is float or type(raw) is int:
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            return None
    return None
