"""The one public way to keep the aggregates current: after VEE (any run: batch, re-run, edit),
after network energy is stored, after collection data. Only the meter-days that changed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from rules.frames import IST_OFFSET_SECONDS
from service.aggregates import meters, network, orgs

_OFFSET = timedelta(seconds=IST_OFFSET_SECONDS)


def local_span(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """Local (IST) days [first, last] as UTC instants (start exclusive of interval ends)."""
    start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC) - _OFFSET
    end = datetime(last_day.year, last_day.month, last_day.day, tzinfo=UTC) - _OFFSET + timedelta(days=1)
    return start, end


def local_days_of(start: datetime, end: datetime) -> tuple[date, date]:
    """The local days holding interval ends in (start, end]."""
    first = (start.astimezone(UTC) + _OFFSET).date()
    last = (end.astimezone(UTC) + _OFFSET - timedelta(seconds=1)).date()
    return first, max(first, last)


_FEEDERS_OF_METERS = """
SELECT coalesce(l.feeder_id, df.feeder_id) FROM installations i
JOIN consumer_supply_links l ON l.consumer_id = i.consumer_id AND l.valid_from < :end
  AND (l.valid_to IS NULL OR l.valid_to > :start)
LEFT JOIN dtr_feeder_links df ON df.dtr_id = l.dtr_id AND df.valid_from < :end
  AND (df.valid_to IS NULL OR df.valid_to > :start)
WHERE i.meter_id = ANY(:ids)
UNION
SELECT i.feeder_id FROM installations i WHERE i.meter_id = ANY(:ids) AND i.feeder_id IS NOT NULL
UNION
SELECT df.feeder_id FROM installations i
JOIN dtr_feeder_links df ON df.dtr_id = i.dtr_id AND df.valid_from < :end
  AND (df.valid_to IS NULL OR df.valid_to > :start)
WHERE i.meter_id = ANY(:ids)
"""


def _feeders(session: Session, sql: str, params: dict[str, object]) -> list[int]:
    return [f for f in session.scalars(text(sql), params) if f is not None]


def refresh(
    session: Session, meter_ids: list[int], first_day: date, last_day: date, *, with_network: bool = True
) -> int:
    """Rebuild every aggregate that the meter-days of `meter_ids` in [first_day, last_day] feed.

    Runs in the caller's transaction (never commits); safe to run twice. Returns meter-days
    written. `with_network=False` leaves the feeder/DT days to one `refresh_feeders` call later
    (a bulk rebuild in chunks of meters).
    """
    if not meter_ids or last_day < first_day:
        return 0
    ids = sorted(set(meter_ids))
    start, end = local_span(first_day, last_day)
    touched_orgs = orgs.orgs_of(session, ids, first_day, last_day)
    written = meters.refresh_meters(session, ids, first_day, last_day, start, end)
    touched_orgs |= orgs.orgs_of(session, ids, first_day, last_day)
    orgs.refresh_orgs(session, touched_orgs, first_day, last_day)
    if not with_network:
        return written
    feeders = _feeders(session, _FEEDERS_OF_METERS, {"ids": ids, "start": start, "end": end})
    network.refresh_network(session, feeders, first_day, last_day, start, end)
    return written


def refresh_feeders(session: Session, feeder_ids: list[int], first_day: date, last_day: date) -> int:
    """Rebuild the network-days of feeders (and their DTs), e.g. after a master-data change."""
    start, end = local_span(first_day, last_day)
    return network.refresh_network(session, feeder_ids, first_day, last_day, start, end)


def refresh_all_feeders(session: Session, first_day: date, last_day: date) -> int:
    feeders = list(session.scalars(text("SELECT id FROM feeders")))
    return refresh_feeders(session, feeders, first_day, last_day)


def refresh_consumers_month(session: Session, consumer_ids: list[int], period: str) -> int:
    """After collection data for `period` (YYYY-MM): the feeders those consumers were on."""
    first = datetime.strptime(period, "%Y-%m").date()
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    start, end = local_span(first, last)
    feeders = _feeders(
        session,
        "SELECT DISTINCT coalesce(l.feeder_id, df.feeder_id) FROM consumer_supply_links l"
        " LEFT JOIN dtr_feeder_links df ON df.dtr_id = l.dtr_id AND df.valid_from < :end"
        " AND (df.valid_to IS NULL OR df.valid_to > :start)"
        " WHERE l.consumer_id = ANY(:ids) AND l.valid_from < :end"
        " AND (l.valid_to IS NULL OR l.valid_to > :start)",
        {"ids": consumer_ids, "start": start, "end": end},
    )
    return network.refresh_network(session, feeders, first, last, start, end)


def refresh_batch_network(session: Session, batch_id: int) -> None:
    """Readings hook: network energy (SCADA/SHMS/MDAS) a batch stored -> its feeders' days."""
    row = session.execute(
        text("SELECT first_at, last_at, counts FROM ingest_batches WHERE id = :id"), {"id": batch_id}
    ).one_or_none()
    if row is None or row.first_at is None or not ((row.counts or {}).get("by_measure") or {}).get("network"):
        return
    first_day, last_day = local_days_of(row.first_at - timedelta(seconds=1), row.last_at)
    start, end = local_span(first_day, last_day)
    feeders = _feeders(
        session,
        "SELECT DISTINCT CASE WHEN n.network_kind = 'feeder' THEN n.network_id"
        " ELSE df.feeder_id END FROM network_energy n"
        " LEFT JOIN dtr_feeder_links df ON n.network_kind = 'dtr' AND df.dtr_id = n.network_id"
        " AND df.valid_from < :end AND (df.valid_to IS NULL OR df.valid_to > :start)"
        " WHERE n.batch_id = :batch AND n.interval_end > :start AND n.interval_end <= :end",
        {"batch": batch_id, "start": start, "end": end},
    )
    network.refresh_network(session, feeders, first_day, last_day, start, end)
