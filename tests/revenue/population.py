"""A generated discom for the analytics: consumers on DTs on feeders, a history and a month of
daily kWh (per TOD zone), transient tamper events, and DT input from the true consumption; and
the theft patterns the tests plant in it. Used by tests/revenue and benchmarks/atr.py."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import insert, text

from integrations.canonical import CanonicalBatch, Events
from service.audit.log import Actor

# TOD zones of agg_meter_day.kwh_by_zone: day (9-17 h), morning peak, evening peak, night.
ARCHETYPES = np.array([[0.30, 0.15, 0.35, 0.20], [0.60, 0.10, 0.20, 0.10], [0.45, 0.12, 0.18, 0.25]])
TARIFFS = np.array(["LV1", "LV2", "LV4"], dtype=object)
LOADS = {"LV1": [1.0, 2.0, 3.0, 5.0], "LV2": [2.0, 5.0, 10.0], "LV4": [10.0, 20.0, 40.0]}


@dataclass
class Generated:
    dt: npt.NDArray[np.int64]  # DT index (0-based) of each consumer
    feeder_of_dt: npt.NDArray[np.int64]
    tariff: npt.NDArray[np.object_]
    sanctioned_kw: npt.NDArray[np.float64]
    true_zones: npt.NDArray[np.float64]  # consumers x days x 4, what was used
    metered_zones: npt.NDArray[np.float64]  # what the meter recorded (NaN: no meter-day)
    month_from: int
    # (consumer, code, day, hours open); hours 0 for a one-off event (cover open)
    events: list[tuple[int, int, int, float]] = field(default_factory=list)
    tech_loss: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    planted: dict[str, int] = field(default_factory=dict)  # pattern -> consumer index

    @property
    def n(self) -> int:
        return len(self.dt)

    def dt_input_kwh(self) -> npt.NDArray[np.float64]:
        """DTs x days: the true use of its consumers plus technical loss."""
        true_daily = self.true_zones.sum(axis=2)
        out = np.zeros((len(self.feeder_of_dt), true_daily.shape[1]))
        np.add.at(out, self.dt, true_daily)
        return out * (1 + self.tech_loss[:, None])


def generate(
    n: int, history_days: int = 28, month_days: int = 30, seed: int = 11, per_dt: int = 25
) -> Generated:
    rng = np.random.default_rng(seed)
    days = history_days + month_days
    n_dt = max(1, n // per_dt)
    dt = rng.integers(0, n_dt, n)
    feeder_of_dt = np.arange(n_dt) // 20
    tariff = TARIFFS[rng.choice(3, n, p=[0.8, 0.15, 0.05])]
    load = np.array([rng.choice(LOADS[t]) for t in tariff])
    base = load * np.exp(rng.normal(np.log(1.2), 0.45, n))
    kind = np.where(tariff == "LV1", 0, np.where(tariff == "LV2", 1, 2))
    shape = np.array([rng.dirichlet(ARCHETYPES[k] * 60) for k in kind])
    weekday = np.arange(days) % 7
    weekly = np.where(weekday[None, :] == 6, np.where(kind == 1, 0.6, 1.1)[:, None], 1.0)
    trend = 1 + rng.uniform(-0.1, 0.1, n)[:, None] * np.linspace(0, 1, days)[None, :]
    daily = base[:, None] * weekly * trend * np.exp(rng.normal(0, 0.2, (n, days)))
    day_shape = rng.gamma(shape[:, None, :] * 200, 1.0, (n, days, 4))
    day_shape /= day_shape.sum(axis=2, keepdims=True)
    true_zones = daily[:, :, None] * day_shape
    metered = true_zones.copy()
    metered[rng.random((n, days)) < 0.02] = np.nan
    events: list[tuple[int, int, int, float]] = []
    for c in np.flatnonzero(rng.random(n) < 0.03):
        for _ in range(int(rng.integers(1, 3))):
            events.append((int(c), 201, int(rng.integers(0, days)), float(rng.uniform(5, 30)) / 60))
    return Generated(dt, feeder_of_dt, tariff, load, true_zones, metered, history_days, events,
                     rng.uniform(0.04, 0.08, n_dt))  # fmt: skip


def plant_bypass_after_cover_open(g: Generated, consumer: int, day: int, keep: float = 0.15) -> None:
    """Cover opened on `day`; from the next day the meter sees a fraction of the use."""
    g.events.append((consumer, 251, day, 0.0))
    g.metered_zones[consumer, day + 1 :] = g.true_zones[consumer, day + 1 :] * keep
    g.planted["bypass_after_cover_open"] = consumer


def plant_dt_diversion(g: Generated, dt: int, keep: float = 0.3, share: float = 0.3) -> int:
    """The largest consumer on the DT diverts all month; its use is made `share` of the DT's."""
    members = np.flatnonzero(g.dt == dt)
    consumer = int(members[np.argmax(g.true_zones[members].sum(axis=(1, 2)))])
    others = g.true_zones[members[members != consumer]].sum(axis=0).sum(axis=1)  # per day
    scale = (share / (1 - share)) * others.mean() / g.true_zones[consumer].sum(axis=1).mean()
    g.true_zones[consumer] *= scale
    g.metered_zones[consumer] = g.true_zones[consumer].copy()
    g.metered_zones[consumer, g.month_from :] *= keep
    g.planted["dt_diversion"] = consumer
    return consumer


def plant_shape_to_neighbours_fraction(g: Generated, consumer: int, fraction: float = 0.3) -> int:
    """From the month on, the meter records `fraction` of the consumer's own use in the shape of
    the neighbour (same DT) whose shape differs most from its own."""
    members = np.flatnonzero((g.dt == g.dt[consumer]) & (np.arange(g.n) != consumer))
    hist = slice(0, g.month_from)

    def shares(c: npt.NDArray[np.int64] | int) -> npt.NDArray[np.float64]:
        z = np.nansum(g.true_zones[c, hist], axis=-2)
        return z / z.sum(axis=-1, keepdims=True)

    neighbour = int(members[np.argmax(np.abs(shares(members) - shares(consumer)).sum(axis=1))])
    own = np.nanmean(g.true_zones[consumer, hist].sum(axis=1))
    theirs = g.true_zones[neighbour, g.month_from :]
    g.metered_zones[consumer, g.month_from :] = (
        theirs / theirs.sum(axis=1, keepdims=True).mean() * own * fraction
    )
    g.planted["shape_to_neighbours_fraction"] = consumer
    return neighbour


def plant_persistent_magnet(g: Generated, consumer: int, day: int, hours: float = 30.0) -> None:
    """A magnet held on the meter for more than a day (IS 15959 201/202)."""
    g.events.append((consumer, 201, day, hours))
    g.planted["persistent_magnet"] = consumer


def plant_zero_while_neighbours_consume(g: Generated, consumer: int) -> None:
    """The meter records nothing all month (a bypass of the whole load); the DT goes on consuming."""
    g.metered_zones[consumer, g.month_from :] = np.where(
        np.isnan(g.metered_zones[consumer, g.month_from :]), np.nan, 0.0
    )
    g.planted["zero_while_neighbours_consume"] = consumer


@dataclass
class Stored:
    consumer_ids: npt.NDArray[np.int64]  # by consumer index
    meter_ids: npt.NDArray[np.int64]
    dt_ids: npt.NDArray[np.int64]
    first_day: date  # first day of the history
    month_first: date
    month_last: date


def _ids(session: Any, table: str, column: str, prefix: str) -> npt.NDArray[np.int64]:
    rows = session.execute(
        text(f"SELECT id FROM {table} WHERE {column} LIKE :p ORDER BY {column}"),  # noqa: S608 - our names
        {"p": prefix + "%"},
    ).scalars()
    return np.array(list(rows), dtype=np.int64)


def store(session: Any, g: Generated, month_first: date, org_unit_id: int, since: datetime) -> Stored:
    """Master data (Core inserts), meter-days and DT days (COPY) and tamper events (through the
    one ingest path). Codes are zero-padded so that their order is the index order."""
    from service.masterdata.models import (
        Consumer,
        ConsumerSupplyLink,
        Dtr,
        DtrFeederLink,
        Feeder,
        Installation,
        Meter,
    )
    from service.readings.ingest import ingest_batch

    n_feeders, n_dt = int(g.feeder_of_dt.max()) + 1, len(g.feeder_of_dt)
    session.execute(insert(Feeder), [dict(code=f"GF{f:05d}", name=f"GF{f:05d}", voltage_kv=11,
                                          feeder_type="urban", org_unit_id=org_unit_id) for f in range(n_feeders)])  # fmt: skip
    session.execute(insert(Dtr), [dict(code=f"GD{d:06d}", name=f"GD{d:06d}", capacity_kva=100,
                                       org_unit_id=org_unit_id) for d in range(n_dt)])  # fmt: skip
    feeders, dts = _ids(session, "feeders", "code", "GF"), _ids(session, "dtrs", "code", "GD")
    session.execute(insert(DtrFeederLink), [dict(dtr_id=int(dts[d]), feeder_id=int(feeders[g.feeder_of_dt[d]]),
                                                 valid_from=since) for d in range(n_dt)])  # fmt: skip
    session.execute(insert(Consumer), [dict(ivrs_number=f"G{c:07d}", name=f"Generated {c}", tariff_category=str(g.tariff[c]),
                                            sanctioned_load=float(g.sanctioned_kw[c]), org_unit_id=org_unit_id)
                                       for c in range(g.n)])  # fmt: skip
    session.execute(insert(Meter), [dict(serial_number=f"GM{c:07d}", make="HPL", meter_class="smart_1ph",
                                         org_unit_id=org_unit_id) for c in range(g.n)])  # fmt: skip
    consumers, meters = (
        _ids(session, "consumers", "ivrs_number", "G"),
        _ids(session, "meters", "serial_number", "GM"),
    )
    session.execute(insert(ConsumerSupplyLink), [dict(consumer_id=int(consumers[c]), dtr_id=int(dts[g.dt[c]]),
                                                      valid_from=since) for c in range(g.n)])  # fmt: skip
    session.execute(insert(Installation), [dict(meter_id=int(meters[c]), consumer_id=int(consumers[c]),
                                                installed_at=since, initial_kwh=0) for c in range(g.n)])  # fmt: skip
    first_day = month_first - timedelta(days=g.month_from)
    days = g.metered_zones.shape[1]
    _copy_meter_days(session, g, meters, first_day, org_unit_id)
    _copy_dt_days(session, g, dts, first_day, org_unit_id)
    if g.events:
        ingest_batch(session, _events_batch(g, first_day), actor=Actor("system", "test-hes"))
    return Stored(consumers, meters, dts, first_day, month_first, first_day + timedelta(days=days - 1))


def _copy(session: Any, table: str, columns: str, lines: list[str]) -> None:
    cur = session.connection().connection.cursor()
    cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO("".join(lines)))
    cur.close()


def _copy_meter_days(
    session: Any, g: Generated, meters: npt.NDArray[np.int64], first: date, org: int, chunk: int = 5_000
) -> None:
    """One COPY per `chunk` consumers (a benchmark's 100,000 would hold gigabytes of lines)."""
    columns = ("meter_id, day, org_unit_id, meter_class, kwh_import, kwh_by_zone, kvah_by_zone, interval_minutes,"
               " intervals, expected_intervals, valid_count, estimated_count, edited_count, failed_count,"
               " suspect_count, raw_count, estimated_share")  # fmt: skip
    days = [str(first + timedelta(days=d)) for d in range(g.metered_zones.shape[1])]
    for start in range(0, g.n, chunk):
        lines = []
        for c in range(start, min(start + chunk, g.n)):
            for d in np.flatnonzero(~np.isnan(g.metered_zones[c, :, 0])):
                z = g.metered_zones[c, d]
                lines.append(
                    f"{meters[c]}\t{days[d]}\t{org}\tsmart_1ph\t{z.sum():.4f}\t"
                    f"{{{z[0]:.4f},{z[1]:.4f},{z[2]:.4f},{z[3]:.4f}}}\t{{0,0,0,0}}\t30\t48\t48\t48\t0\t0\t0\t0\t0\t0\n"
                )
        _copy(session, "agg_meter_day", columns, lines)


def _copy_dt_days(session: Any, g: Generated, dts: npt.NDArray[np.int64], first: date, org: int) -> None:
    metered = np.nansum(g.metered_zones, axis=2)
    sold = np.zeros((len(dts), metered.shape[1]))
    np.add.at(sold, g.dt, metered)
    members = np.bincount(g.dt, minlength=len(dts))
    inputs = g.dt_input_kwh()
    lines = [
        f"dtr\t{dts[t]}\t{first + timedelta(days=d)}\t{org}\t{inputs[t, d]:.3f}\tmeter\t96\t96\t0\t{sold[t, d]:.3f}"
        f"\t0\t0\t{members[t]}\t0\t0\t0\n"
        for t in range(len(dts))
        for d in range(metered.shape[1])
    ]
    _copy(session, "agg_network_day", "network_kind, network_id, day, org_unit_id, input_kwh, input_source,"
          " input_intervals, input_expected, input_estimated, sold_metered_kwh, sold_scalar_kwh, direct_ht_kwh,"
          " metered_consumers, metered_missing, scalar_consumers, scalar_missing", lines)  # fmt: skip


def _events_batch(g: Generated, first: date) -> CanonicalBatch:
    start = datetime.combine(first, datetime.min.time(), UTC) - timedelta(hours=5, minutes=30)
    # each event at 11:00 IST of its day (+ a minute per repeat, so keys stay unique)
    occurred, restored = [], []
    for i, (_, code, day, hours) in enumerate(g.events):
        at = start + timedelta(days=day, hours=11, minutes=i % 600)
        occurred.append(np.datetime64(at.replace(tzinfo=None), "s"))
        restored.append(np.datetime64((at + timedelta(hours=hours)).replace(tzinfo=None), "s")
                        if hours > 0 and code != 251 else np.datetime64("NaT", "s"))  # fmt: skip
    return CanonicalBatch(
        source="hes:TEST",
        events=Events(
            meter=np.array([f"GM{c:07d}" for c, *_ in g.events], dtype=object),
            code=np.array([e[1] for e in g.events], dtype=np.int32),
            occurred_at=np.array(occurred, dtype="datetime64[s]"),
            restored_at=np.array(restored, dtype="datetime64[s]"),
            snapshot=[{} for _ in g.events],
        ),
    )
