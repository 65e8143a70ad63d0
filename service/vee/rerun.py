"""Re-running VEE for meters and a range of local days (idempotent: results replace)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.frames import IST_OFFSET_SECONDS
from service.audit.log import Actor, record
from service.masterdata import Meter
from service.vee.validation import VeeSummary, validate

MAX_DAYS = 92
MAX_METERS = 10_000


def local_days(first: date, last: date) -> tuple[datetime, datetime]:
    offset = timedelta(seconds=IST_OFFSET_SECONDS)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC) - offset
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) - offset + timedelta(days=1)
    return start, end


def rerun_range(session: Session, actor: Actor, serials: list[str], first: date, last: date) -> VeeSummary:
    if last < first:
        raise ValueError("'to' is before 'from'")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValueError(f"at most {MAX_DAYS} days per re-run")
    if not serials or len(serials) > MAX_METERS:
        raise ValueError(f"give 1 to {MAX_METERS} meters")
    found = dict(
        session.execute(select(Meter.serial_number, Meter.id).where(Meter.serial_number.in_(serials)))
        .tuples()
        .all()
    )
    unknown = sorted(set(serials) - set(found))
    if unknown:
        raise ValueError(f"unknown meters: {', '.join(unknown[:20])}")
    start, end = local_days(first, last)
    summary = validate(session, sorted(found.values()), start, end)
    record(
        session,
        actor,
        "vee.rerun",
        "vee_range",
        f"{first.isoformat()}..{last.isoformat()}",
        None,
        {"meters": sorted(serials), **summary.as_dict()},
    )
    return summary
