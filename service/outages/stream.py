"""The stream: committed power events -> durable_rules -> outages as they arrive.

After a batch of meter events commits, ingest's hook queues one job for it (`jobs.events_stored`);
the job reads the batch's stored events back (never the request's memory) and posts them to a
`rules.correlation.StreamCorrelator` this worker process keeps between jobs. What the rules
conclude for the feeders that got events is written as `outages` rows by identity; what they no
longer conclude is withdrawn; what closed is announced to its consumers.

The correlator lives in one process, so it is rebuilt from the store whenever it cannot be sure
it has seen every event: on the first job, on a new local day, after NETWORK_TTL (master data
may have moved meters), when the batch is older than its window, or when another worker ran a
stream job since this one did (a sequence number in Redis, bumped under a Redis lock that also
keeps two workers from correlating at once). The reconciling batch pass (`detection.rebuild`,
periodic) remains the truth behind it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from rules.correlation import Conclusion, CorrelationSet, Event, Network, StreamCorrelator
from service.masterdata.network import NetworkDay
from service.outages.detection import (
    LOOKBACK,
    Days,
    as_correlation_events,
    correlation_events,
    local_day,
    outage_rows,
    power_codes,
    rule_set,
    upsert_outages,
    withdraw_others,
    withdraw_outages,
)
from service.outages.restoration import notify_restored
from service.readings.events import events_of_batches

NETWORK_TTL_S = 600.0
# Under a storm, jobs queue behind each other: a job with more waiting only posts its events
# and leaves concluding to the last one (at most this long), so a storm costs once per feeder,
# not once per batch per feeder (benchmarks/outages.py).
MAX_DEFER_S = 30.0


@dataclass
class StreamState:
    """One worker's correlator and what it was built from."""

    seq: int = -1
    day: date | None = None
    built_at: float = 0.0
    window_start: datetime | None = None
    correlator: StreamCorrelator | None = None
    cs: CorrelationSet | None = None
    networks: dict[date, NetworkDay] = field(default_factory=dict)
    rebuilds: int = 0
    concluded_at: float = 0.0


@dataclass(frozen=True)
class StreamResult:
    events: int
    opened: int
    closed: int
    withdrawn: int
    rebuilt: bool
    notices: int
    deferred: bool = False


STATE = StreamState()


def _stale(state: StreamState, seq: int, day: date, first: datetime, clock_s: float) -> bool:
    return (
        state.correlator is None
        or state.seq != seq
        or state.day != day
        or clock_s - state.built_at > NETWORK_TTL_S
        or state.window_start is None
        or first - LOOKBACK < state.window_start
    )


def apply_batches(
    session: Session,
    batch_ids: Sequence[int],
    *,
    seq: int,
    now: datetime,
    state: StreamState = STATE,
    clock_s: float | None = None,
    more_waiting: bool = False,
) -> StreamResult:
    """Correlate the power events these committed batches stored; write what changed.

    `seq` is the stream's sequence number before this job (see the module's docstring); the
    caller bumps it after committing. `more_waiting`: other stream jobs are queued, so this one
    may only post (see MAX_DEFER_S). Runs in the caller's transaction; does not commit."""
    clock_s = time.monotonic() if clock_s is None else clock_s
    cs = state.cs or rule_set()
    stored = events_of_batches(session, batch_ids, power_codes(cs))
    if not stored:
        return StreamResult(0, 0, 0, 0, False, 0)
    first = min(e.occurred_at for e in stored)
    last = max(e.occurred_at for e in stored)
    day = local_day(first)
    rebuilt = _stale(state, seq, day, first, clock_s)
    if rebuilt:
        cs = rule_set()  # an edited rule file takes effect on the next rebuild
        state.networks = {}
        days = Days(session, state.networks)
        sizes = days.on(day)
        state.correlator = StreamCorrelator(cs, Network(sizes.dt_meters, sizes.feeder_meters))
        state.cs, state.day, state.built_at = cs, day, clock_s
        state.window_start = first - LOOKBACK
        state.rebuilds += 1
        state.concluded_at = clock_s
        events = correlation_events(session, cs, first - LOOKBACK, last + LOOKBACK, days)
    else:
        days = Days(session, state.networks)
        events = as_correlation_events(stored, cs, days)
    correlator = state.correlator
    assert correlator is not None and state.cs is not None
    for ev in events:
        correlator.post(ev)
    if more_waiting and not rebuilt and clock_s - state.concluded_at < MAX_DEFER_S:
        return StreamResult(len(events), 0, 0, 0, False, 0, deferred=True)
    return _conclude(session, state, now, clock_s, len(events), rebuilt, (first, last))


def conclude_deferred(
    session: Session, *, seq: int, now: datetime, state: StreamState = STATE
) -> StreamResult | None:
    """Write what deferred jobs posted; None when this process's correlator is not the current
    one (another worker ran since: the caller falls back to the batch pass)."""
    if state.correlator is None or state.seq != seq:
        return None
    return _conclude(session, state, now, time.monotonic(), 0, False, None)


def _conclude(
    session: Session,
    state: StreamState,
    now: datetime,
    clock_s: float,
    posted: int,
    rebuilt: bool,
    window: tuple[datetime, datetime] | None,
) -> StreamResult:
    correlator = state.correlator
    assert correlator is not None and state.cs is not None
    days = Days(session, state.networks)
    state.concluded_at = clock_s
    found = correlator.changes()
    if correlator.errors:
        raise RuntimeError(f"durable_rules actions failed: {correlator.errors[:3]}")
    changed = found.opened + found.closed
    rows = outage_rows(changed, _events_for(correlator, changed), state.cs, days)
    ids = upsert_outages(session, rows)
    withdraw_outages(session, found.withdrawn)
    if rebuilt and window is not None:
        # What an earlier correlator wrote there and this one does not conclude.
        withdraw_others(session, window[0] - LOOKBACK, window[1] + LOOKBACK, ids)
    closed_ids = [i for i, c in zip(ids, changed, strict=True) if c.ended_at is not None]
    notices = notify_restored(session, closed_ids, now, days)
    return StreamResult(posted, len(found.opened), len(found.closed), len(found.withdrawn), rebuilt, notices)


def _events_for(correlator: StreamCorrelator, conclusions: list[Conclusion]) -> list[Event]:
    feeders = {correlator.feeder_of(c) for c in conclusions}
    return [ev for feeder in sorted(feeders) for ev in correlator.events_of(feeder)]


def reset(state: StreamState = STATE) -> None:
    """Forget the correlator (the next job rebuilds it from the store)."""
    state.correlator, state.seq, state.day, state.window_start = None, -1, None, None
    state.networks = {}
