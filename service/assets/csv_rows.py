"""Reading a CSV sent by URJAS or billing into row dicts: refused whole when it is too large,
not UTF-8 text, unreadable or wrongly headed; a row with more cells than the header is kept as a
bad row (the caller names it), empty cells are left out."""

from __future__ import annotations

import csv
import io
from typing import Any

MAX_BYTES = 1_000_000
EXTRA_CELLS = "extra cells"


class ImportRefused(Exception):
    """The whole input is refused (nothing stored): status, error code and details to answer."""

    def __init__(self, status: int, error: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.error, self.details = status, error, details


def read_rows(body: bytes, required: tuple[str, ...], optional: tuple[str, ...], max_rows: int) -> list[Any]:
    """The rows as dicts of stripped, non-empty cells (or EXTRA_CELLS for a row that overflows)."""
    if len(body) > MAX_BYTES:
        raise ImportRefused(413, "too_large", f"At most {MAX_BYTES} bytes per file.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(400, "not_utf8", "The file is not UTF-8 text.") from None
    if "\x00" in text:
        raise ImportRefused(400, "binary_file", "The file holds NUL bytes: not a CSV.")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in reader.fieldnames or []]
    except csv.Error as exc:
        raise ImportRefused(400, "unreadable_csv", f"line {reader.line_num}: {exc}") from None
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h not in required + optional]
    if missing or unknown:
        raise ImportRefused(
            422, "bad_header", "The header must name the columns " + ", ".join(required)
            + (" (optional: " + ", ".join(optional) + ")" if optional else "") + ".",
            missing=missing, unknown=unknown,
        )  # fmt: skip
    rows: list[Any] = []
    try:
        for record in reader:
            if len(rows) >= max_rows:
                raise ImportRefused(413, "too_many_rows", f"At most {max_rows} rows per file.")
            if None in record:
                rows.append(EXTRA_CELLS)
                continue
            rows.append({k.strip(): v.strip() for k, v in record.items() if isinstance(v, str) and v.strip()})
    except csv.Error as exc:
        raise ImportRefused(400, "unreadable_csv", f"line {reader.line_num}: {exc}") from None
    if not rows:
        raise ImportRefused(422, "no_rows", "The file has a header and no rows.")
    return rows
