"""IEC 61968-9 MeterReadings inside the message envelope -> CanonicalBatch.

Streams the document through defusedxml-guarded expat with one small handler per element
(IntervalReadings are the hot path), decodes each IntervalBlock's ReadingType once and hands
whole blocks to the column builders.
"""

from __future__ import annotations

import numpy as np

from integrations.canonical import CanonicalBatch, ParseError, Reject
from integrations.cim.envelope import HEADER_FIELDS, check_header
from integrations.cim.reading_types import Decoded, decode
from integrations.parsing import (
    DEFAULT_MAX_XML_BYTES,
    INTERVAL_CHANNEL_CODE,
    IntervalBuilder,
    RegisterBuilder,
    expat_parser,
    iso_to_epoch,
    iso_to_epoch_one,
    now_epoch,
    run_expat,
)


class _Reader:
    """Parse state; handlers are bound methods set on the expat parser."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.root: str | None = None
        self.header: dict[str, str] = {}
        self.in_header = False
        self.text = ""
        self.meter_reading = -1
        self.meter_mrid: str | None = None
        self.meter_name: str | None = None
        self.in_meter = False
        self.block = -1
        self.in_block = False
        self.in_readings = False
        self.readings_index = -1
        self.ts: str | None = None
        self.val: str | None = None
        self.block_ts: list[str | None] = []
        self.block_val: list[str | None] = []
        self.reading_type: str | None = None
        self.intervals = IntervalBuilder()
        self.registers = RegisterBuilder()
        self.rejects: list[Reject] = []
        self.payload_seen = False

    @property
    def meter(self) -> str | None:
        return self.meter_name or self.meter_mrid

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = self.names.get(name)
        if local is None:
            local = self.names[name] = name[name.rfind("}") + 1 :]
        self.text = ""
        if local == "timeStamp" or local == "value":
            return
        if local == "IntervalReadings":
            self.ts = self.val = None
        elif local == "ReadingType":
            self.reading_type = attrs.get("ref") or attrs.get("mRID")
        elif local == "IntervalBlocks":
            self.in_block = True
            self.block += 1
            self.block_ts, self.block_val, self.reading_type = [], [], None
        elif local == "Readings" and not self.in_block:
            self.in_readings = True
            self.readings_index += 1
            self.ts = self.val = self.reading_type = None
        elif local == "MeterReading":
            self.meter_reading += 1
            self.block = self.readings_index = -1
            self.meter_mrid = self.meter_name = None
        elif local == "Meter":
            self.in_meter = True
        elif local == "Header":
            self.in_header = True
        elif local == "Payload":
            self.payload_seen = True
            check_header(self.root, self.header, "MeterReadings")
        elif self.root is None:
            self.root = local

    def data(self, text: str) -> None:
        self.text += text

    def end(self, name: str) -> None:
        local = self.names[name]
        if local == "value":
            self.val = self.text
        elif local == "timeStamp":
            self.ts = self.text
        elif local == "IntervalReadings":
            self.block_ts.append(self.ts)
            self.block_val.append(self.val)
        elif local == "IntervalBlocks":
            self.in_block = False
            self._finish_block()
        elif local == "Readings" and self.in_readings:
            self.in_readings = False
            self._finish_register()
        elif self.in_meter and local in ("mRID", "name"):
            if local == "mRID":
                self.meter_mrid = self.text.strip()
            else:
                self.meter_name = self.text.strip()
        elif local == "Meter":
            self.in_meter = False
        elif self.in_header and local in HEADER_FIELDS:
            self.header[local] = self.text.strip()
        elif local == "Header":
            self.in_header = False

    def _where(self) -> str:
        return f"MeterReading[{self.meter_reading}]"

    def _finish_block(self) -> None:
        where = f"{self._where()}/IntervalBlocks[{self.block}]"
        meter = self.meter
        count = len(self.block_val)
        if not meter:
            self.rejects.append(Reject(where, "Meter", f"no meter mRID or name; {count} values not stored"))
            return
        ref = self.reading_type or ""
        decoded = decode(ref) if ref else "IntervalBlock without a ReadingType"
        if isinstance(decoded, str) or decoded.target != "interval":
            reason = (
                decoded if isinstance(decoded, str) else f"reading type {ref} is a register, not an interval"
            )
            self.rejects.append(Reject(where, "ReadingType", f"{reason}; {count} values not stored", meter))
            return
        ends, bad_ts = iso_to_epoch(self.block_ts)
        bad = set(bad_ts)
        values = _floats(self.block_val)
        prefix = f"{where}/IntervalReadings"
        out = self.intervals
        out.segment(meter, decoded.interval_minutes, prefix)
        code = INTERVAL_CHANNEL_CODE[decoded.channel]
        scale = decoded.scale
        for p in range(count):
            value = values[p]
            if p in bad:
                self.rejects.append(
                    Reject(f"{prefix}[{p}]", "timeStamp", f"unreadable timestamp {self.block_ts[p]!r}", meter)
                )
            elif value is None:
                self.rejects.append(
                    Reject(
                        f"{prefix}[{p}]",
                        decoded.channel,
                        f"not a number: {self.block_val[p]!r}",
                        meter,
                        self.block_ts[p],
                    )
                )
            else:
                out.channel.append(code)
                out.end.append(ends[p])
                out.value.append(value * scale if scale != 1.0 else value)
                out.pos.append(p)

    def _finish_register(self) -> None:
        where = f"{self._where()}/Readings[{self.readings_index}]"
        meter = self.meter
        if not meter:
            self.rejects.append(Reject(where, "Meter", "no meter mRID or name"))
            return
        ref = self.reading_type or ""
        decoded: Decoded | str = decode(ref) if ref else "Reading without a ReadingType"
        if isinstance(decoded, str):
            self.rejects.append(Reject(where, "ReadingType", decoded, meter, self.ts))
            return
        read_at = iso_to_epoch_one(self.ts)
        if read_at is None:
            self.rejects.append(Reject(where, "timeStamp", f"unreadable timestamp {self.ts!r}", meter))
            return
        values = _floats([self.val])
        if values[0] is None:
            self.rejects.append(Reject(where, decoded.channel, f"not a number: {self.val!r}", meter, self.ts))
            return
        value = values[0] * decoded.scale
        if decoded.target == "interval":
            self.intervals.segment(meter, decoded.interval_minutes, where)
            self.intervals.channel.append(INTERVAL_CHANNEL_CODE[decoded.channel])
            self.intervals.end.append(read_at)
            self.intervals.value.append(value)
            self.intervals.pos.append(0)
        else:
            self.registers.add(
                where, meter, decoded.register_kind, decoded.channel, decoded.tod_zone, read_at, value
            )


def _floats(texts: list[str | None]) -> list[float | None]:
    if None not in texts:
        try:
            return np.array(texts, dtype=np.float64).tolist()  # type: ignore[no-any-return]
        except ValueError:
            pass
    out: list[float | None] = []
    for text in texts:
        try:
            out.append(float(text))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            out.append(None)
    return out


def parse_meter_readings(
    data: bytes, *, now: int | None = None, max_bytes: int = DEFAULT_MAX_XML_BYTES
) -> CanonicalBatch:
    """Parse a MeterReadings message; ParseError when the document or its envelope is unreadable."""
    parser = expat_parser(data, max_bytes)
    reader = _Reader()
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    run_expat(parser, data)
    if not reader.payload_seen:
        raise ParseError("the message has no Payload")
    header = check_header(reader.root, reader.header, "MeterReadings")
    now = now_epoch() if now is None else now
    batch = CanonicalBatch(source=f"cim:{header.source or 'unknown'}", message_id=header.message_id)
    batch.rejects.extend(reader.rejects)
    batch.intervals = reader.intervals.build(batch.rejects, now)
    batch.registers = reader.registers.build(batch.rejects, now)
    return batch
