"""The AMR drop folder (today the discom's FTP target): each *.xml CDF file is ingested once and
moved to processed/ (with <name>.result.json) or failed/ (with <name>.reason.txt).

A file is claimed by an atomic rename into processing/, so two workers never read the same file,
and only files untouched for `min_age_seconds` are read, so a file still being written is not read
half-way (senders that write `x.xml.part` and rename to `x.xml` are picked up at once). A file
left in processing/ by a crash is retried after STALE_CLAIM_SECONDS; re-ingesting is harmless.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from integrations.amr.cdf import parse_cdf
from integrations.canonical import CanonicalBatch, Nameplate, ParseError, Reject
from service.audit.log import Actor
from service.masterdata import Meter
from service.readings.ingest import BatchRefused, IngestResult, ingest_batch
from service.unit_of_work import unit_of_work

log = logging.getLogger(__name__)
DROP_ACTOR = Actor("system", "amr-drop")
MIN_AGE_SECONDS = 30
STALE_CLAIM_SECONDS = 600
SCAN_EVERY_SECONDS = 60
MAX_FILE_BYTES = 64 * 1024 * 1024
# Faults of the database or the disk: the file is not to blame and is tried again.
TRANSIENT = (OperationalError, InterfaceError, DisconnectionError, OSError)


def _ratio(text: str | None) -> tuple[float, float] | None:
    """'100/5' -> (100, 5); no CT/PT ('', None, '1/1') -> None, so both spellings compare equal."""
    if not text or not text.strip():
        return None
    primary, _, secondary = text.replace(" ", "").partition("/")
    try:
        value = (float(primary), float(secondary or 1))
    except ValueError:
        return (float("nan"), float("nan"))
    return None if value[0] == value[1] else value


def _same_make(in_file: str, in_master: str) -> bool:
    a = "".join(ch for ch in in_file.lower() if ch.isalnum())
    b = "".join(ch for ch in in_master.lower() if ch.isalnum())
    return bool(a) and (a in b or b in a or b.startswith(a))


def check_nameplates(session: Session, nameplates: list[Nameplate]) -> list[Reject]:
    """Compare each file's D1 with master data. Mismatches are reported, readings still stored:
    they are what the meter measured, multiplying factors are applied from master data, and
    VEE's multiplier rule flags the meter for a field check."""
    found: list[Reject] = []
    for plate in nameplates:
        meter = session.scalar(select(Meter).where(Meter.serial_number == plate.meter))
        if meter is None:
            continue  # unknown meter: its readings are quarantined by the store
        for locator, field, in_file, in_master in (
            ("D1/G8", "ct_ratio", plate.ct_ratio, meter.ct_ratio),
            ("D1/G7", "pt_ratio", plate.pt_ratio, meter.pt_ratio),
        ):
            if plate_value_given(in_file) and _ratio(in_file) != _ratio(in_master):
                found.append(
                    Reject(
                        locator,
                        field,
                        f"nameplate mismatch: file says {in_file}, master data says {in_master or 'none'} "
                        "(readings stored; check the meter)",
                        plate.meter,
                    )
                )
        if plate.make and not _same_make(plate.make, meter.make):
            found.append(
                Reject(
                    "D1/G22",
                    "make",
                    f"nameplate mismatch: file says {plate.make}, master data says {meter.make} "
                    "(readings stored; check the meter)",
                    plate.meter,
                )
            )
    return found


def plate_value_given(value: str | None) -> bool:
    return value is not None and value.strip() != ""


def ingest_cdf(session: Session, data: bytes, file_name: str | None, actor: Actor) -> IngestResult:
    """Parse a CDF file, check its nameplate and store it in the caller's transaction."""
    batch: CanonicalBatch = parse_cdf(data, file_name=file_name)
    batch.rejects.extend(check_nameplates(session, batch.nameplates))
    return ingest_batch(session, batch, actor=actor)


@dataclass(frozen=True)
class FileOutcome:
    name: str
    status: str  # processed | failed | retry (put back after a transient fault)
    detail: dict[str, Any]


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists():
        target = folder / f"{Path(name).stem}.{n}{Path(name).suffix}"
        n += 1
    return target


def _release_stale_claims(drop: Path, processing: Path, now: float) -> None:
    for path in processing.glob("*.xml"):
        if now - path.stat().st_mtime > STALE_CLAIM_SECONDS:
            with contextlib.suppress(FileNotFoundError):
                os.replace(path, _free_name(drop, path.name))


def scan(
    drop_dir: Path, *, min_age_seconds: float = MIN_AGE_SECONDS, actor: Actor = DROP_ACTOR
) -> list[FileOutcome]:
    """Ingest every ready *.xml in the drop folder, one transaction per file."""
    processed, failed, processing = drop_dir / "processed", drop_dir / "failed", drop_dir / "processing"
    for folder in (drop_dir, processed, failed, processing):
        folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    _release_stale_claims(drop_dir, processing, now)
    outcomes = []
    for path in sorted(p for p in drop_dir.iterdir() if p.is_file() and p.suffix.lower() == ".xml"):
        try:
            if now - path.stat().st_mtime < min_age_seconds:
                continue  # still being written (or just arrived): next scan
            claimed = processing / path.name
            os.replace(path, claimed)
        except FileNotFoundError:
            continue  # another worker claimed it
        os.utime(claimed)  # the claim's age, for stale-claim recovery
        outcomes.append(_process(claimed, drop_dir, processed, failed, actor))
    return outcomes


def _process(claimed: Path, drop_dir: Path, processed: Path, failed: Path, actor: Actor) -> FileOutcome:
    name = claimed.name
    try:
        with unit_of_work(remove=True) as uow:
            if claimed.stat().st_size > MAX_FILE_BYTES:
                raise ParseError(f"file is over the limit of {MAX_FILE_BYTES} bytes", "too_large")
            result = ingest_cdf(uow.session, claimed.read_bytes(), name, actor)
            uow.commit()
    except ParseError as exc:
        return _set_aside(claimed, failed, exc.code, exc.reason)
    except BatchRefused as exc:
        return _set_aside(claimed, failed, exc.error, str(exc))
    except TRANSIENT as exc:
        # The database or the disk, not the file: it goes back and is tried on the next scan,
        # and the files after it are still tried now.
        with contextlib.suppress(OSError):
            os.replace(claimed, _free_name(drop_dir, name))
        log.warning("AMR file %s put back after a transient fault: %s", name, exc)
        return FileOutcome(name, "retry", {"error": "transient", "message": str(exc)[:500]})
    except Exception as exc:
        # Anything else was caused by the file's content (a value the database refused): put
        # back, it would fail on every scan, so it is set aside with the reason.
        log.exception("AMR file %s failed", name)
        return _set_aside(claimed, failed, "unprocessable", f"{type(exc).__name__}: {str(exc)[:500]}")
    target = _free_name(processed, name)
    os.replace(claimed, target)
    detail = result.as_dict()
    target.with_name(target.name + ".result.json").write_text(json.dumps(detail, indent=1, default=str))
    return FileOutcome(name, "processed", detail)


def _set_aside(claimed: Path, failed: Path, code: str, reason: str) -> FileOutcome:
    target = _free_name(failed, claimed.name)
    os.replace(claimed, target)
    target.with_name(target.name + ".reason.txt").write_text(f"{code}: {reason}\n")
    log.warning("AMR file %s refused: %s", claimed.name, reason)
    return FileOutcome(claimed.name, "failed", {"error": code, "message": reason})
