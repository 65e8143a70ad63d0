"""MIOS CDF XML (AMR and meter-reading-instrument files, REFERENCE §5) -> CanonicalBatch.

D1 nameplate -> Nameplate; D2 instantaneous registers; D3 billing history (TOD energies, MD
with OCCDATE, PF); D4 load survey (interval N of a DAYPROFILE ends at local midnight +
N x INTERVALPERIOD, IST, stored in UTC); D5 events. Liberal in what it reads (missing
sections, extra attributes, values as text or VALUE attributes, 15/30/60-minute periods),
strict in what it stores: every refused value becomes a Reject.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from integrations.canonical import CanonicalBatch, Nameplate, ParseError, Reject
from integrations.is15959 import EVENT_CODES
from integrations.parsing import (
    DEFAULT_MAX_XML_BYTES,
    INTERVAL_CHANNEL_CODE,
    VALID_INTERVAL_MINUTES,
    EventBuilder,
    IntervalBuilder,
    RegisterBuilder,
    epoch_to_iso,
    expat_parser,
    ist_date_to_epoch,
    ist_text_to_epoch,
    now_epoch,
    run_expat,
)

# Load-survey (D4) parameter codes -> interval channel.
INTERVAL_CODES = {
    "P7-1-5-1-0": "kwh",
    "P7-3-5-1-0": "kvah",
    "P7-2-5-2-0": "kvarh_lag",
    "P7-2-6-2-0": "kvarh_lead",
    "P7-1-6-1-0": "kwh_export",
    "P7-3-6-1-0": "kvah_export",
    "P1-2-1-1-0": "voltage_r",
    "P1-2-2-1-0": "voltage_y",
    "P1-2-3-1-0": "voltage_b",
    "P2-1-1-1-0": "current_r",
    "P2-1-2-1-0": "current_y",
    "P2-1-3-1-0": "current_b",
}
# Cumulative energy codes (D2, D3 B3) -> register channel.
ENERGY_CODES = {code: ch for code, ch in INTERVAL_CODES.items() if code.startswith("P7-")}
MD_CODES = {"P7-4-5-1-0": "md_kw", "P7-6-5-1-0": "md_kva"}
PF_CODE = "P4-4-4-0-0"
# Known codes that have no channel where they appear (instantaneous kW, kVA, PF, frequency, ...).
OTHER_KNOWN = {"P7-4-5-1-0": "kW", "P7-6-5-1-0": "kVA", "P4-4-4-0-0": "PF", "P9-1-0-0-0": "frequency"}
OTHER_KNOWN |= {code: ch for code, ch in INTERVAL_CODES.items() if not code.startswith("P7-")}
SNAPSHOT_NAMES = {**INTERVAL_CODES, PF_CODE: "pf", "P9-1-0-0-0": "frequency_hz"}
_INTERVAL_CODE_NUM = {code: INTERVAL_CHANNEL_CODE[ch] for code, ch in INTERVAL_CODES.items()}


def _split_tod(code: str, attrs: dict[str, str]) -> tuple[str, int]:
    """TOD zone from a TOD attribute, or the last field of the code (P7-1-5-1-3 = zone 3)."""
    zone_text = attrs.get("TOD") or attrs.get("TODZONE")
    if zone_text and zone_text.isdigit():
        return code, int(zone_text)
    head, _, tail = code.rpartition("-")
    if tail.isdigit() and 1 <= int(tail) <= 8:
        return f"{head}-0", int(tail)
    return code, 0


class _Reader:
    def __init__(self, rejects: list[Reject]) -> None:
        self.rejects = rejects
        self.root: str | None = None
        self.stack: list[str] = []
        self.text = ""
        self.intervals = IntervalBuilder()
        self.registers = RegisterBuilder()
        self.events = EventBuilder()
        self.nameplates: list[Nameplate] = []
        self.unit_index = -1
        self._new_unit()

    def _new_unit(self) -> None:
        self.unit_index += 1
        self.d1: dict[str, str] = {}
        self.unit_segments_from = len(self.intervals.seg_meter)
        self.pending_registers: list[tuple[Any, ...]] = []
        self.pending_events: list[tuple[Any, ...]] = []
        self.pending_rejects: list[Reject] = []
        self.period: int | None = None
        self.day_epoch: int | None = None
        self.day_index = -1
        self.interval: int | None = None
        self.ip_locator = ""
        self.billing_at: int | None = None
        self.billing_locator = ""
        self.event: list[Any] | None = None
        self.unstored_instant: list[str] = []
        self.skipped = 0
        self.unit_open = False

    # -- expat handlers ------------------------------------------------------------------
    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.text = ""
        if name == "PARAMETER":
            self._parameter(attrs)
            return
        if name == "IP":
            self._ip(attrs)
            return
        parent = self.stack[-1] if self.stack else None
        self.stack.append(name)
        if self.root is None:
            self.root = name
            if name != "CDF":
                raise ParseError(f"root element {name!r} is not CDF")
            self.unit_open = True
        elif name == "UTILITYTYPE":
            if self.unit_open and (self.d1 or self.intervals.seg_meter[self.unit_segments_from :]):
                self._close_unit()
            self._new_unit()
            self.unit_open = True
        elif name == "DAYPROFILE":
            self._day(attrs)
        elif name == "D4":
            self._d4(attrs)
        elif parent == "D1":
            self.d1[name] = attrs.get("VALUE") or attrs.get("NAME") or ""
            if name == "G22":
                self.d1["G22"] = attrs.get("NAME") or attrs.get("CODE") or ""
        elif name == "INSTPARAM":
            self._instant(attrs)
        elif parent == "D3" and name.startswith("D3-"):
            self.billing_at = ist_text_to_epoch(attrs.get("DATETIME"))
            self.billing_locator = f"D3/{name}"
            if self.billing_at is None:
                self.pending_rejects.append(
                    Reject(self.billing_locator, "DATETIME", f"unreadable date {attrs.get('DATETIME')!r}")
                )
        elif name in ("B3", "B5", "B9") and parent and parent.startswith("D3-"):
            self._billing(name, attrs)
        elif name == "EVENT":
            self._event(attrs)

    def data(self, text: str) -> None:
        self.text += text

    def end(self, name: str) -> None:
        if name in ("PARAMETER", "IP"):
            return
        self.stack.pop()
        parent = self.stack[-1] if self.stack else None
        if parent == "D1" and not self.d1.get(name):
            self.d1[name] = self.text.strip()
        elif name == "EVENT" and self.event is not None:
            self.pending_events.append(tuple(self.event))
            self.event = None
        elif name == "D4" and self.skipped:
            self.pending_rejects.append(
                Reject("D4", "INTERVALPERIOD", f"load survey unreadable; {self.skipped} values not stored")
            )
            self.skipped = 0
        elif name in ("UTILITYTYPE", "CDF") and self.unit_open:
            self._close_unit()

    # -- sections --------------------------------------------------------------------------
    def _d4(self, attrs: dict[str, str]) -> None:
        raw = attrs.get("INTERVALPERIOD", "")
        minutes = int(raw) if raw.strip().isdigit() else None
        self.period = minutes if minutes in VALID_INTERVAL_MINUTES else None
        if self.period is None:
            self.pending_rejects.append(
                Reject(
                    "D4", "INTERVALPERIOD", f"interval period {raw!r} is not one of {VALID_INTERVAL_MINUTES}"
                )
            )
        self.day_index = -1

    def _day(self, attrs: dict[str, str]) -> None:
        self.day_index += 1
        self.day_epoch = ist_date_to_epoch(attrs.get("DATE"))
        self.interval = None
        if self.period is None:
            return
        locator = f"D4/DAYPROFILE[{self.day_index}]"
        if self.day_epoch is None:
            self.pending_rejects.append(
                Reject(locator, "DATE", f"unreadable date {attrs.get('DATE')!r} (dd-MM-yyyy)")
            )
            return
        self.intervals.segment("", self.period, f"{locator}/IP")

    def _ip(self, attrs: dict[str, str]) -> None:
        raw = attrs.get("INTERVAL", "")
        self.interval = int(raw) if raw.strip().isdigit() else None
        self.ip_locator = f"D4/DAYPROFILE[{self.day_index}]/IP[{raw}]"
        if self.period and self.day_epoch is not None:
            per_day = 1440 // self.period
            if self.interval is None or not 1 <= self.interval <= per_day:
                self.pending_rejects.append(
                    Reject(self.ip_locator, "INTERVAL", f"interval {raw!r} is off the grid (1..{per_day})")
                )
                self.interval = None

    def _parameter(self, attrs: dict[str, str]) -> None:
        parent = self.stack[-1] if self.stack else None
        code = attrs.get("PARAMCODE") or attrs.get("CODE") or ""
        raw = attrs.get("VALUE")
        if parent == "DAYPROFILE":
            if self.period is None or self.day_epoch is None:
                self.skipped += self.period is None
                return
            if self.interval is None:
                return
            channel = _INTERVAL_CODE_NUM.get(code)
            if channel is None:
                self._reject_code(self.ip_locator, code, "a load-survey channel")
                return
            try:
                value = float(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                self.pending_rejects.append(
                    Reject(
                        self.ip_locator, INTERVAL_CODES[code], f"not a number: {raw!r}", None, self._ip_time()
                    )
                )
                return
            out = self.intervals
            out.channel.append(channel)
            out.end.append(self.day_epoch + self.interval * self.period * 60)
            out.value.append(value)
            out.pos.append(self.interval)
        elif parent == "EVENT" and self.event is not None:
            # A snapshot value is context, not a reading: an unreadable one is left out.
            with contextlib.suppress(TypeError, ValueError):
                self.event[5][SNAPSHOT_NAMES.get(code, code)] = float(raw)  # type: ignore[arg-type]

    def _ip_time(self) -> str | None:
        if self.day_epoch is None or self.interval is None or self.period is None:
            return None
        return epoch_to_iso(self.day_epoch + self.interval * self.period * 60)

    def _reject_code(self, locator: str, code: str, where: str) -> None:
        if code in OTHER_KNOWN:
            reason = f"parameter {code} ({OTHER_KNOWN[code]}) is not {where} we store"
        else:
            reason = f"unknown parameter code {code!r}"
        self.pending_rejects.append(Reject(locator, "PARAMCODE", reason))

    def _instant(self, attrs: dict[str, str]) -> None:
        code = attrs.get("CODE") or attrs.get("PARAMCODE") or ""
        channel = ENERGY_CODES.get(code)
        if channel is None:
            if code in OTHER_KNOWN:
                self.unstored_instant.append(code)
            else:
                self._reject_code("D2/INSTPARAM", code, "an instantaneous register")
            return
        self.pending_registers.append(
            ("D2/INSTPARAM", "instant", channel, 0, None, attrs.get("VALUE"), None, None)
        )

    def _billing(self, name: str, attrs: dict[str, str]) -> None:
        if self.billing_at is None:
            return
        code, zone = _split_tod(attrs.get("PARAMCODE") or attrs.get("CODE") or "", attrs)
        locator = f"{self.billing_locator}/{name}"
        table = {"B3": ENERGY_CODES, "B5": MD_CODES, "B9": {PF_CODE: "avg_pf"}}[name]
        channel = table.get(code)
        if channel is None:
            self._reject_code(locator, code, f"a billing register in {name}")
            return
        occurred_text = attrs.get("OCCDATE") if name == "B5" else None
        occurred = ist_text_to_epoch(occurred_text) if occurred_text else None
        if occurred_text and occurred is None:
            self.pending_rejects.append(Reject(locator, "OCCDATE", f"unreadable date {occurred_text!r}"))
            return
        self.pending_registers.append(
            (locator, "billing", channel, zone, self.billing_at, attrs.get("VALUE"), occurred, None)
        )

    def _event(self, attrs: dict[str, str]) -> None:
        locator = f"D5/EVENT[{len(self.pending_events)}]"
        code_text = attrs.get("CODE", "")
        when_text = attrs.get("DATETIME") or attrs.get("OCCDATE")
        code = int(code_text) if code_text.strip().isdigit() else None
        occurred = ist_text_to_epoch(when_text)
        restored_text = attrs.get("RESTOREDATETIME")
        restored = ist_text_to_epoch(restored_text) if restored_text else None
        if code is None or code not in EVENT_CODES:
            self.pending_rejects.append(Reject(locator, "CODE", f"unknown IS 15959 event code {code_text!r}"))
        elif occurred is None:
            self.pending_rejects.append(Reject(locator, "DATETIME", f"unreadable date {when_text!r}"))
        elif restored_text and restored is None:
            self.pending_rejects.append(
                Reject(locator, "RESTOREDATETIME", f"unreadable date {restored_text!r}")
            )
        else:
            self.event = [locator, None, code, occurred, restored, {}]
            return
        self.event = None

    def _close_unit(self) -> None:
        self.unit_open = False
        meter = (self.d1.get("G1") or "").strip()
        if not meter:
            raise ParseError("the file has no meter number (D1/G1)")
        for i in range(self.unit_segments_from, len(self.intervals.seg_meter)):
            self.intervals.seg_meter[i] = meter
        read_at = ist_text_to_epoch(self.d1.get("G3")) or ist_text_to_epoch(self.d1.get("G2"))
        for locator, kind, channel, zone, at, raw, occurred, status in self.pending_registers:
            at = read_at if at is None else at
            try:
                value = float(raw)
            except (TypeError, ValueError):
                self.rejects.append(Reject(locator, channel, f"not a number: {raw!r}", meter))
                continue
            if at is None:
                self.rejects.append(
                    Reject(locator, "G3", "no reading date-time (D1/G3) for this snapshot", meter)
                )
                continue
            self.registers.add(locator, meter, kind, channel, zone, at, value, occurred, status)
        for locator, _, code, occurred, restored, snapshot in self.pending_events:
            self.events.add(locator, meter, code, occurred, restored, snapshot)
        for reject in self.pending_rejects:
            self.rejects.append(Reject(reject.locator, reject.field, reject.reason, meter, reject.timestamp))
        if self.unstored_instant:
            self.rejects.append(
                Reject(
                    "D2",
                    "INSTPARAM",
                    f"{len(self.unstored_instant)} instantaneous values ({', '.join(sorted(set(self.unstored_instant)))})"
                    " have no register channel and were not stored",
                    meter,
                )
            )
        self.nameplates.append(_nameplate(meter, self.d1))


def _nameplate(meter: str, d1: dict[str, str]) -> Nameplate:
    def clock(key: str) -> np.datetime64 | None:
        epoch = ist_text_to_epoch(d1.get(key))
        return None if epoch is None else np.datetime64(epoch, "s")

    dip = d1.get("G20", "")
    return Nameplate(
        meter=meter,
        make=d1.get("G22") or None,
        meter_type=d1.get("G15") or None,
        ct_ratio=d1.get("G8") or None,
        pt_ratio=d1.get("G7") or None,
        firmware=d1.get("G17") or None,
        demand_integration_minutes=int(dip) if dip.isdigit() else None,
        meter_clock=clock("G2"),
        read_at=clock("G3"),
    )


def parse_cdf(
    data: bytes,
    *,
    now: int | None = None,
    max_bytes: int = DEFAULT_MAX_XML_BYTES,
    file_name: str | None = None,
) -> CanonicalBatch:
    """Parse one CDF file; ParseError when it is not XML, not CDF, hostile or has no meter number."""
    parser = expat_parser(data, max_bytes)
    rejects: list[Reject] = []
    reader = _Reader(rejects)
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    run_expat(parser, data)
    now = now_epoch() if now is None else now
    batch = CanonicalBatch(source="amr-cdf", message_id=file_name, rejects=rejects)
    batch.nameplates = reader.nameplates
    batch.intervals = reader.intervals.build(rejects, now)
    batch.registers = reader.registers.build(rejects, now)
    batch.events = reader.events.build(rejects, now)
    return batch
