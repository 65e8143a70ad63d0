"""The batch pass: stored power events of a span -> outages, through the correlation rules.

Events are read back from PostgreSQL (never from memory), each meter is placed on its DT and
feeder as the network stood on the event's local day, and `rules.correlation.batch` concludes.
The outages starting in the span are then made equal to the conclusions: upserted by identity
(rule, level, subject, started_at), the rest in the span deleted. Re-running rebuilds the same
rows; a late event or a duplicate only changes what the rules conclude from the whole store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from rules.correlation import CORRELATION_DIR, Conclusion, CorrelationSet, Event, Network, batch, load_file
from service.masterdata.network import NetworkDay, network_on
from service.outages.models import Outage, OutageMeter
from service.readings.events import StoredEvent, events_between

RULE_FILE = CORRELATION_DIR / "outages.yaml"
IST = timedelta(hours=5, minutes=30)
# Events this long before the span are read too, so a spell that began before it is seen whole.
LOOKBACK = timedelta(days=1)


class RuleFileInvalid(ValueError):
    """The outage rule file does not validate; its errors name file and line."""


def rule_set(path: Path = RULE_FILE) -> CorrelationSet:
    loaded = load_file(path)
    if not loaded.ok or loaded.correlation_set is None:
        raise RuleFileInvalid("; ".join(str(e) for e in loaded.errors))
    return loaded.correlation_set


def local_day(at: datetime) -> date:
    return (at.astimezone(UTC) + IST).date()


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class Rebuilt:
    outages: int
    removed: int
    events: int


class Days:
    """Networks by local day, read once each (the stream keeps one across its jobs)."""

    def __init__(self, session: Session, days: dict[date, NetworkDay] | None = None) -> None:
        self.session = session
        self.days: dict[date, NetworkDay] = {} if days is None else days

    def on(self, day: date) -> NetworkDay:
        if day not in self.days:
            self.days[day] = network_on(self.session, day)
        return self.days[day]


def correlation_events(
    session: Session, cs: CorrelationSet, start: datetime, end: datetime, days: Days
) -> list[Event]:
    """Stored power events in [start, end) as correlation events, on the network of their day."""
    return as_correlation_events(events_between(session, power_codes(cs), start, end), cs, days)


def power_codes(cs: CorrelationSet) -> list[int]:
    return sorted(c for c, k in cs.kinds.items() if k in ("fail", "restore"))


def as_correlation_events(stored: Iterable[StoredEvent], cs: CorrelationSet, days: Days) -> list[Event]:
    """Stored events placed on the network of their local day (meters on no consumer left out)."""
    fail = {c for c, k in cs.kinds.items() if k == "fail"}
    restore = {c for c, k in cs.kinds.items() if k == "restore"}
    out: list[Event] = []
    for ev in stored:
        net = days.on(local_day(ev.occurred_at))
        if ev.meter_id not in net.meter_consumer:
            continue  # a meter on no consumer that day (store, feeder meter): not a supply point
        dt, feeder = net.meter_dt.get(ev.meter_id), net.meter_feeder.get(ev.meter_id)
        out.append(Event(ev.meter_id, ev.code, _epoch(ev.occurred_at), dt, feeder))
        if ev.code in fail and ev.restored_at is not None:
            out.append(Event(ev.meter_id, min(restore), _epoch(ev.restored_at), dt, feeder))
    return out


def _spells(events: list[Event], cs: CorrelationSet) -> dict[int, list[tuple[int, int | None]]]:
    fail = {c for c, k in cs.kinds.items() if k == "fail"}
    per: dict[int, list[tuple[int, int | None]]] = defaultdict(list)
    for ev in sorted(events, key=lambda e: (e.meter, e.at, e.code not in fail)):
        mine = per[ev.meter]
        off = bool(mine) and mine[-1][1] is None
        if ev.code in fail and not off:
            mine.append((ev.at, None))
        elif ev.code not in fail and off:
            mine[-1] = (mine[-1][0], ev.at)
    return per


def outage_rows(
    conclusions: list[Conclusion], events: list[Event], cs: CorrelationSet, days: Days
) -> list[tuple[dict[str, object], list[dict[str, object]]]]:
    """Each conclusion as an `outages` row and its `outage_meters` rows."""
    spells = _spells(events, cs)
    out = []
    for c in conclusions:
        net = days.on(local_day(_at(c.started_at)))
        row: dict[str, object] = {
            "rule_id": c.rule,
            "level": c.scope,
            "subject": c.key,
            "cause": "inferred",
            "started_at": _at(c.started_at),
            "ended_at": None if c.ended_at is None else _at(c.ended_at),
            "duration_s": None if c.ended_at is None else c.ended_at - c.started_at,
            "meters_reporting": len(c.meters),
        }
        if c.scope == "dt":
            row |= {"dt_code": c.key, "feeder_code": net.dt_feeder.get(c.key), "meter_id": None}
            row["consumers_affected"] = len(net.dt_consumers.get(c.key, ()))
            row["org_unit_id"] = net.units.get(("dt", c.key), (0, None))[1]
        elif c.scope == "feeder":
            row |= {"dt_code": None, "feeder_code": c.key, "meter_id": None}
            row["consumers_affected"] = len(net.feeder_consumers.get(c.key, ()))
            row["org_unit_id"] = net.units.get(("feeder", c.key), (0, None))[1]
        else:
            meter = int(c.key)
            consumer = net.meter_consumer.get(meter)
            row |= {"dt_code": net.meter_dt.get(meter), "feeder_code": net.meter_feeder.get(meter)}
            row |= {"meter_id": meter, "consumers_affected": 1}
            row["org_unit_id"] = None if consumer is None else net.consumer_org.get(consumer)
        members = []
        for meter in c.meters:
            spell = next((s for s in spells.get(meter, ()) if s[0] >= c.started_at), None)
            if spell is not None:
                members.append(
                    {
                        "meter_id": meter,
                        "off_at": _at(spell[0]),
                        "on_at": None if spell[1] is None else _at(spell[1]),
                    }
                )
        out.append((row, members))
    return out


def rebuild(session: Session, start: datetime, end: datetime, cs: CorrelationSet | None = None) -> Rebuilt:
    """Make the outages that start in [start, end) equal to what the stored events conclude.

    An outage still open (or ending) at `start` widens the span back to its start, so its
    restoration closes it. Runs in the caller's transaction; does not commit.
    """
    cs = cs or rule_set()
    earlier = session.scalar(
        select(Outage.started_at)
        .where(Outage.cause == "inferred", Outage.started_at < start)
        .where((Outage.ended_at.is_(None)) | (Outage.ended_at >= start))
        .order_by(Outage.started_at)
        .limit(1)
    )
    span_start = min(start, earlier) if earlier is not None else start
    days = Days(session)
    events = correlation_events(session, cs, span_start - LOOKBACK, end, days)
    sizes = days.on(local_day(span_start))
    network = Network(sizes.dt_meters, sizes.feeder_meters)
    lo, hi = _epoch(span_start), _epoch(end)
    conclusions = [c for c in batch(cs, events, network) if lo <= c.started_at < hi]
    rows = outage_rows(conclusions, events, cs, days)
    keep = upsert_outages(session, rows)
    return Rebuilt(len(rows), withdraw_others(session, span_start, end, keep), len(events))


def withdraw_others(session: Session, start: datetime, end: datetime, keep: list[int]) -> int:
    """Delete the inferred outages starting in [start, end) other than `keep`."""
    return len(
        session.execute(
            delete(Outage)
            .where(Outage.cause == "inferred", Outage.started_at >= start, Outage.started_at < end)
            .where(Outage.id.not_in(keep) if keep else Outage.id.is_not(None))
            .returning(Outage.id)
        ).all()
    )


def upsert_outages(
    session: Session, rows: list[tuple[dict[str, object], list[dict[str, object]]]]
) -> list[int]:
    """Write outages (by identity) with their member meters; returns their ids."""
    keep = []
    for row, members in rows:
        stmt = pg_insert(Outage).values(**row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["rule_id", "level", "subject", "started_at"],
            set_={k: stmt.excluded[k] for k in row if k not in ("rule_id", "level", "subject", "started_at")},
        )
        outage_id = session.execute(stmt.returning(Outage.id)).scalar_one()
        keep.append(outage_id)
        session.execute(delete(OutageMeter).where(OutageMeter.outage_id == outage_id))
        if members:
            session.execute(insert(OutageMeter), [m | {"outage_id": outage_id} for m in members])
    return keep


def withdraw_outages(session: Session, conclusions: list[Conclusion]) -> int:
    """Delete inferred outages the rules no longer conclude (by identity)."""
    gone = 0
    for c in conclusions:
        gone += len(
            session.execute(
                delete(Outage)
                .where(Outage.cause == "inferred", Outage.rule_id == c.rule, Outage.level == c.scope)
                .where(Outage.subject == c.key, Outage.started_at == _at(c.started_at))
                .returning(Outage.id)
            ).all()
        )
    return gone


__all__ = [
    "Days",
    "Rebuilt",
    "RuleFileInvalid",
    "rebuild",
    "rule_set",
    "upsert_outages",
    "withdraw_others",
    "withdraw_outages",
]
