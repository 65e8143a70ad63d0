"""Monthly scalar meter reads from billing or the reading app (JSON or CSV), with reading status.

JSON: {"message_id", "source": "billing"|"reading_app", "reads": [{"meter", "read_at", "status",
"kwh", "kvah", "md_kw", "kwh_export", "kvah_export"}]}; CSV header: meter,read_at,status,kwh,kvah,
md_kw,kwh_export,kvah_export (empty = absent; the export registers are a net meter's own, issue 17).
A "normal" read needs kwh; any other status (door locked, meter burnt, ...) may carry values,
and one with no value at all becomes a status-only kwh row (value NaN = missing, stored NULL) so
VEE's reading-status rule sees it. Also writes both forms (the simulator of the reading app).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from integrations.canonical import DT64, READING_STATUSES, CanonicalBatch, ParseError, Registers, Reject
from integrations.parsing import (
    FUTURE_TOLERANCE_SECONDS,
    RegisterBuilder,
    epoch_to_iso,
    iso_to_epoch_one,
    now_epoch,
)

VALUE_FIELDS = ("kwh", "kvah", "md_kw", "kwh_export", "kvah_export")
StatusOnly = tuple[str, str, int, str]  # locator, meter, read_at (epoch s), status
CSV_COLUMNS = ("meter", "read_at", "status", *VALUE_FIELDS)


def _add(
    loc: str,
    row: dict[str, Any],
    registers: RegisterBuilder,
    status_only: list[StatusOnly],
    rejects: list[Reject],
    from_text: bool,
) -> None:
    meter = row.get("meter")
    read_text = row.get("read_at")
    status = row.get("status") or "normal"
    if not isinstance(meter, str) or not meter.strip():
        rejects.append(Reject(loc, "meter", "missing meter serial number"))
        return
    if status not in READING_STATUSES:
        rejects.append(Reject(loc, "status", f"unknown reading status {status!r}", meter, read_text))
        return
    read_at = iso_to_epoch_one(read_text)
    if read_at is None:
        rejects.append(Reject(loc, "read_at", f"unreadable timestamp {read_text!r}", meter))
        return
    values: list[tuple[str, float]] = []
    for name in VALUE_FIELDS:
        raw = row.get(name)
        if raw is None or raw == "":
            continue
        if from_text:
            try:
                value = float(raw)
            except ValueError:
                value = None
        else:
            value = float(raw) if type(raw) is float or type(raw) is int else None
        if value is None:
            rejects.append(Reject(loc, name, f"not a number: {raw!r}", meter, read_text))
            return
        values.append((name, value))
    if status == "normal" and not any(name == "kwh" for name, _ in values):
        rejects.append(Reject(loc, "kwh", "a normal read needs kwh", meter, read_text))
        return
    if not values:
        # The status alone is the reading (door locked, meter burnt ...): keep it, value missing.
        status_only.append((loc, meter, read_at, status))
        return
    for name, value in values:
        registers.add(loc, meter, "scalar", name, 0, read_at, value, None, status)


def _build(
    registers: RegisterBuilder, status_only: list[StatusOnly], rejects: list[Reject], now: int
) -> Registers:
    """The builder's rows plus status-only kwh rows (value NaN, which the store keeps as NULL).

    The builder refuses NaN values (right for every other read), so status-only rows are
    checked here the same way (future time, duplicate key) and appended after its rows.
    """
    built = registers.build(rejects, now)
    seen = {
        (m, ch, int(t))
        for m, ch, t in zip(built.meter, built.channel, built.read_at.astype(np.int64), strict=True)
    }
    kept: list[StatusOnly] = []
    for loc, meter, read_at, status in status_only:
        if read_at > now + FUTURE_TOLERANCE_SECONDS:
            rejects.append(Reject(loc, "read_at", "timestamp is in the future", meter, epoch_to_iso(read_at)))
        elif (meter, "kwh", read_at) in seen:
            reason = "duplicate register read in this message (the first one is kept)"
            rejects.append(Reject(loc, "kwh", reason, meter, epoch_to_iso(read_at)))
        else:
            seen.add((meter, "kwh", read_at))
            kept.append((loc, meter, read_at, status))
    if not kept:
        return built
    n = len(kept)
    return Registers(
        meter=np.concatenate([built.meter, np.array([k[1] for k in kept], dtype=object)]),
        kind=np.concatenate([built.kind, np.full(n, "scalar", dtype=object)]),
        channel=np.concatenate([built.channel, np.full(n, "kwh", dtype=object)]),
        tod_zone=np.concatenate([built.tod_zone, np.zeros(n, dtype=np.int16)]),
        read_at=np.concatenate([built.read_at, np.array([k[2] for k in kept], np.int64).astype(DT64)]),
        value=np.concatenate([built.value, np.full(n, np.nan)]),
        occurred_at=np.concatenate([built.occurred_at, np.full(n, np.datetime64("NaT"), dtype=DT64)]),
        reading_status=np.concatenate([built.reading_status, np.array([k[3] for k in kept], dtype=object)]),
    )


def parse_scalar_json(body: bytes | str, *, now: int | None = None) -> CanonicalBatch:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ParseError(f"not valid JSON: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("reads"), list):
        raise ParseError("the message must be an object with a 'reads' list")
    source = message.get("source") if isinstance(message.get("source"), str) else "billing"
    batch = CanonicalBatch(source=f"scalar:{source}", message_id=message.get("message_id"))
    registers = RegisterBuilder()
    status_only: list[StatusOnly] = []
    for i, row in enumerate(message["reads"]):
        if not isinstance(row, dict):
            batch.rejects.append(Reject(f"reads[{i}]", "reads", "each read must be an object"))
            continue
        _add(f"reads[{i}]", row, registers, status_only, batch.rejects, from_text=False)
    batch.registers = _build(registers, status_only, batch.rejects, now_epoch() if now is None else now)
    return batch


def parse_scalar_csv(body: bytes | str, *, now: int | None = None, source: str = "billing") -> CanonicalBatch:
    try:
        text = body if isinstance(body, str) else body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"CSV is not UTF-8: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "meter" not in header or "read_at" not in header:
        raise ParseError(
            f"CSV header must have the columns {', '.join(CSV_COLUMNS)} (meter and read_at at least)"
        )
    reader.fieldnames = header
    batch = CanonicalBatch(source=f"scalar:{source}")
    registers = RegisterBuilder()
    status_only: list[StatusOnly] = []
    for line_no, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k is not None}
        _add(f"line {line_no}", cleaned, registers, status_only, batch.rejects, from_text=True)
    batch.registers = _build(registers, status_only, batch.rejects, now_epoch() if now is None else now)
    return batch


def scalar_reads_json(
    reads: Sequence[dict[str, Any]], *, source: str = "billing", message_id: str | None = None
) -> bytes:
    return json.dumps({"message_id": message_id, "source": source, "reads": list(reads)}).encode()


def scalar_reads_csv(reads: Sequence[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for read in reads:
        writer.writerow({k: ("" if read.get(k) is None else read.get(k)) for k in CSV_COLUMNS})
    return out.getvalue().encode()
