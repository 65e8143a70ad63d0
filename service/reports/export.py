"""CSV and XLSX of a report's rows: headers with units, numbers rounded as shown, times in IST
with their zone. Both are produced from an iterator, so a large result is never held whole
(XLSX through openpyxl's write-only mode)."""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO, Any

from openpyxl import Workbook

from service.reports.registry import Report
from service.reports.running import shown

CSV_MIME = "text/csv; charset=utf-8"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def csv_chunks(report: Report, rows: Iterable[dict[str, Any]], chunk_rows: int = 2000) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # A byte-order mark so spreadsheet programs open Hindi and rupee signs as UTF-8.
    buffer.write("\ufeff")
    writer.writerow([c.heading for c in report.columns])
    for n, row in enumerate(rows, 1):
        writer.writerow(["" if (v := shown(c, row.get(c.key))) is None else _cell(v) for c in report.columns])
        if n % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_gzip(report: Report, rows: Iterable[dict[str, Any]]) -> tuple[bytes, int]:
    """The whole CSV gzipped (a kept run) and its row count."""
    out = io.BytesIO()
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    with gzip.GzipFile(fileobj=out, mode="wb") as gz:
        for chunk in csv_chunks(report, counted()):
            gz.write(chunk.encode("utf-8"))
    return out.getvalue(), count


def csv_file(report: Report, rows: Iterable[dict[str, Any]]) -> IO[bytes]:
    """The CSV in a spooled temporary file, rewound: the rows are read to the end inside the
    request (its transaction ends with it), then the file is streamed to the client."""
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    for chunk in csv_chunks(report, rows):
        out.write(chunk.encode("utf-8"))
    out.seek(0)
    return out


def xlsx_file(report: Report, rows: Iterable[dict[str, Any]], title: str) -> IO[bytes]:
    """An XLSX in a spooled temporary file (memory up to 8 MiB, then disk), rewound."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=report.name[:31])
    ws.append([title])
    ws.append([c.heading for c in report.columns])
    for row in rows:
        values = []
        for c in report.columns:
            v = shown(c, row.get(c.key))
            # Excel has no time zones: the IST wall time, and the heading says IST.
            values.append(v.replace(tzinfo=None) if isinstance(v, datetime) else v)
        ws.append(values)
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    wb.save(out)  # type: ignore[arg-type]
    out.seek(0)
    return out
