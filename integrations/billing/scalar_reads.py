"""Monthly scalar meter reads from billing or the reading app (JSON or CSV), with reading status.

JSON: {"message_id", "source": "billing"|"reading_app", "reads": [{"meter", "read_at", "status",
"kwh", "kvah", "md_kw"}]}; CSV header: meter,read_at,status,kwh,kvah,md_kw (empty = absent).
A "normal" read needs kwh; any other status (door locked, meter burnt, ...) may carry values,
and one with no value at all is reported, because the store keeps reads with values only.
Also writes both forms (the simulator of the reading app).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from integrations.canonical import READING_STATUSES, CanonicalBatch, ParseError, Reject
from integrations.parsing import RegisterBuilder, iso_to_epoch_one, now_epoch

VALUE_FIELDS = ("kwh", "kvah", "md_kw")
CSV_COLUMNS = ("meter", "read_at", "status", *VALUE_FIELDS)


def _add(
    loc: str, row: dict[str, Any], registers: RegisterBuilder, rejects: list[Reject], from_text: bool
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
        rejects.append(
            Reject(loc, "status", f"status {status!r} with no reading: nothing to store", meter, read_text)
        )
        return
    for name, value in values:
        registers.add(loc, meter, "scalar", name, 0, read_at, value, None, status)


def parse_scalar_json(body: bytes | str, *, now: int | None = None) -> CanonicalBatch:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"not valid JSON: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("reads"), list):
        raise ParseError("the message must be an object with a 'reads' list")
    source = message.get("source") if isinstance(message.get("source"), str) else "billing"
    batch = CanonicalBatch(source=f"scalar:{source}", message_id=message.get("message_id"))
    registers = RegisterBuilder()
    for i, row in enumerate(message["reads"]):
        if not isinstance(row, dict):
            batch.rejects.append(Reject(f"reads[{i}]", "reads", "each read must be an object"))
            continue
        _add(f"reads[{i}]", row, registers, batch.rejects, from_text=False)
    batch.registers = registers.build(batch.rejects, now_epoch() if now is None else now)
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
    for line_no, row in enumerate(reader, start=2):
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        cleaned = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k is not None}
        _add(f"line {line_no}", cleaned, registers, batch.rejects, from_text=True)
    batch.registers = registers.build(batch.rejects, now_epoch() if now is None else now)
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
