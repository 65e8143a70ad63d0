"""EndDeviceEventType (IEC 61968-9) <-> IS 15959 event code: one mapping, kept as data.

The table is `event_types.csv` (cim_type, is_code, meaning) so an analyst can add a mapping
without touching code; it is re-read when the file changes. A leading 0 in a CIM type means
"any device type", so 3.26.38.85 (an electricity meter's power down) maps like 0.26.38.85.
A type the table does not map is still stored: under `unmapped_code(type)`, a negative code
derived from the type, with the raw type in the snapshot, until a mapping reclassifies it.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from pathlib import Path

from integrations.is15959 import EVENT_CODES

MAPPING_FILE = Path(__file__).with_name("event_types.csv")


@dataclass(frozen=True)
class EventTypeMap:
    """CIM type -> IS 15959 code (and back, first type per code, for the simulator)."""

    to_is: dict[str, int]
    to_cim: dict[int, str]
    meanings: dict[str, str]

    def code_for(self, event_type: str) -> int | None:
        """An EndDeviceEventType -> IS 15959 code; any specific device type matches the 0 entry."""
        event_type = event_type.strip()
        code = self.to_is.get(event_type)
        if code is not None:
            return code
        head, sep, rest = event_type.partition(".")
        if sep and head.isdigit():
            return self.to_is.get(f"0.{rest}")
        return None


class MappingError(ValueError):
    """The mapping file has a row we cannot use; the message names the line."""


def parse_mapping(text: str, name: str = "event_types.csv") -> EventTypeMap:
    to_is: dict[str, int] = {}
    to_cim: dict[int, str] = {}
    meanings: dict[str, str] = {}
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        cim_type = (row.get("cim_type") or "").strip()
        raw_code = (row.get("is_code") or "").strip()
        parts = cim_type.split(".")
        if len(parts) != 4 or not all(p.isdigit() for p in parts):
            raise MappingError(f"{name} line {line}: {cim_type!r} is not an EndDeviceEventType (a.b.c.d)")
        if not raw_code.isdigit() or int(raw_code) not in EVENT_CODES:
            raise MappingError(f"{name} line {line}: {raw_code!r} is not an IS 15959 event code")
        if cim_type in to_is:
            raise MappingError(f"{name} line {line}: {cim_type} is mapped twice")
        to_is[cim_type] = int(raw_code)
        to_cim.setdefault(int(raw_code), cim_type)
        meanings[cim_type] = (row.get("meaning") or "").strip()
    return EventTypeMap(to_is, to_cim, meanings)


_cache: dict[Path, tuple[tuple[int, int], EventTypeMap]] = {}


def load_mapping(path: Path = MAPPING_FILE) -> EventTypeMap:
    """The mapping in `path`, re-read when the file's size or modification time changes."""
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    mapping = parse_mapping(path.read_text(encoding="utf-8"), path.name)
    _cache[path] = (stamp, mapping)
    return mapping


def unmapped_code(event_type: str) -> int:
    """The stored code of an unmapped type: negative (never an IS code), stable per type."""
    return -1 - (zlib.crc32(event_type.strip().encode()) & 0x3FFFFFFF)


def is_code_for(event_type: str) -> int | None:
    return load_mapping().code_for(event_type)
