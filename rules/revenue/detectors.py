"""The analytics rule types over one month of daily aggregates and the history before it.

Input is a `Population` (one row per consumer, columns and matrices); each type returns `Hits`
(consumer row, day index, score, detail). Vectorised with numpy where the rule allows; the
per-group steps loop over groups (DTs, peer groups), never over consumer-days.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.cluster import KMeans

from rules.revenue import AnalyticsRule, AnalyticsSet

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass
class Events:
    """Tamper events of the window: consumer row, code, day index (into `daily`), hours open."""

    row: I64
    code: I64
    day: I64
    hours: F64

    @classmethod
    def none(cls) -> Events:
        e = np.empty(0, dtype=np.int64)
        return cls(e, e, e, np.empty(0))


@dataclass
class Population:
    """Consumers and their daily kWh: `daily[:, :month_from]` is history, the rest the month.
    NaN = no meter-day. `zones_*`: kWh per TOD zone summed over history / month."""

    consumer_id: I64
    dtr: I64  # 0: on no DT
    feeder: I64
    tariff: npt.NDArray[np.object_]
    sanctioned_kw: F64
    daily: F64  # consumers x days
    month_from: int
    zones_history: F64
    zones_month: F64
    events: Events = field(default_factory=Events.none)
    # DTs: id, input kWh and kWh recorded by its consumers' meters over the month
    dt_id: I64 = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    dt_input_kwh: F64 = field(default_factory=lambda: np.empty(0))
    dt_sold_kwh: F64 = field(default_factory=lambda: np.empty(0))

    def __len__(self) -> int:
        return len(self.consumer_id)

    @property
    def history(self) -> F64:
        return self.daily[:, : self.month_from]

    @property
    def month(self) -> F64:
        return self.daily[:, self.month_from :]


@dataclass
class Hits:
    rule: AnalyticsRule
    row: I64
    day: I64  # day index into `daily`
    score: F64
    detail: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.row)


def _hits(rule: AnalyticsRule, row: Any, day: Any, score: Any, detail: list[dict[str, Any]]) -> Hits:
    return Hits(rule, np.asarray(row, dtype=np.int64), np.asarray(day, dtype=np.int64),
                np.asarray(score, dtype=np.float64), detail)  # fmt: skip


def _nanmean(a: F64) -> F64:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=1)


def _nanmedian(a: F64) -> F64:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=1)


def tamper_persistence(pop: Population, rule: AnalyticsRule, p: Mapping[str, Any]) -> Hits:
    ev = pop.events
    mine = np.isin(ev.code, p["codes"]) & (ev.day >= pop.month_from)
    rows, hours, count = ev.row[mine], ev.hours[mine], np.ones(int(mine.sum()))
    n = len(pop)
    total_h = np.bincount(rows, hours, minlength=n)
    events = np.bincount(rows, count, minlength=n)
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, rows, ev.day[mine])
    flagged = np.flatnonzero((total_h >= p["min_hours"]) | (events >= p["min_events"]))
    score = np.maximum(total_h[flagged] / max(p["min_hours"], 1e-9), events[flagged] / p["min_events"])
    detail = [{"tamper_hours": round(float(total_h[i]), 2), "events": int(events[i])} for i in flagged]
    return _hits(rule, flagged, first[flagged], np.minimum(score, 5.0), detail)


def tamper_then_drop(pop: Population, rule: AnalyticsRule, p: Mapping[str, Any]) -> Hits:
    ev = pop.events
    mine = np.isin(ev.code, p["codes"]) & (ev.day >= pop.month_from)
    order = np.lexsort((ev.day[mine], ev.row[mine]))
    rows, days, codes = ev.row[mine][order], ev.day[mine][order], ev.code[mine][order]
    firsts = np.r_[True, rows[1:] != rows[:-1]] if len(rows) else np.empty(0, dtype=bool)
    out_row, out_day, out_score, detail = [], [], [], []
    for r, d, code in zip(rows[firsts], days[firsts], codes[firsts], strict=True):
        before = pop.daily[r, max(0, d - p["before_days"]) : d]
        after = pop.daily[r, d + 1 :]
        after = after[~np.isnan(after)]
        if len(after) < p["min_days_after"] or np.isnan(before).all():
            continue
        b, a = float(np.nanmean(before)), float(after.mean())
        if b >= p["min_before_kwh_per_day"] and a <= b * (1 - p["drop_pct"] / 100):
            out_row.append(r)
            out_day.append(d)
            out_score.append(1 + (1 - a / b))
            detail.append(
                {"event_code": int(code), "before_kwh_per_day": round(b, 3), "after_kwh_per_day": round(a, 3)}
            )
    return _hits(rule, out_row, out_day, out_score, detail)


def trend_break(pop: Population, rule: AnalyticsRule, p: Mapping[str, Any]) -> Hits:
    base = _nanmedian(pop.history)
    month = pop.month
    keep = 1 - p["drop_pct"] / 100
    present = ~np.isnan(month)
    low = present & (month < (base * keep)[:, None])
    share = low.sum(axis=1) / np.maximum(present.sum(axis=1), 1)
    mean = _nanmean(month)
    flagged = np.flatnonzero(
        (base >= p["min_history_kwh_per_day"])
        & (share * 100 >= p["min_low_days_pct"])
        & (mean <= base * keep)
    )
    first_low = pop.month_from + np.argmax(low[flagged], axis=1)
    ratio = mean[flagged] / base[flagged]
    detail = [{"history_kwh_per_day": round(float(base[i]), 3), "month_kwh_per_day": round(float(mean[i]), 3)}
              for i in flagged]  # fmt: skip
    return _hits(rule, flagged, first_low, 1 + (1 - ratio), detail)


def _group_stats(keys: I64, values: F64) -> tuple[F64, F64, I64]:
    """Per row: its group's median and MAD of `values` (NaN left out), and the group's size."""
    n = len(keys)
    median, mad, size = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=np.int64)
    ok = ~np.isnan(values)
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(keys[idx], kind="stable")]
    bounds = np.flatnonzero(np.r_[True, keys[order][1:] != keys[order][:-1], True])
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        members = order[lo:hi]
        v = values[members]
        m = np.median(v)
        median[members], mad[members], size[members] = m, np.median(np.abs(v - m)), hi - lo
    return median, mad, size


def _keys(*columns: npt.NDArray[Any]) -> I64:
    codes = [np.unique(c, return_inverse=True)[1].astype(np.int64) for c in columns]
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for c in codes:
        key = key * (int(c.max(initial=0)) + 1) + c
    return key


def peer_z(pop: Population, bands_kw: list[float]) -> tuple[F64, I64]:
    """Robust z-score of log daily use in the month within (tariff, load band, feeder)."""
    x = np.log(_nanmean(pop.month) + 0.1)
    band = np.searchsorted(np.asarray(bands_kw, dtype=np.float64), pop.sanctioned_kw, side="right")
    median, mad, size = _group_stats(_keys(pop.tariff.astype(str), band, pop.feeder), x)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (x - median) / (1.4826 * np.maximum(mad, 0.05))
    return z, size


def peer_zscore(pop: Population, rule: AnalyticsRule, p: Mapping[str, Any]) -> Hits:
    z, size = peer_z(pop, p["load_bands_kw"])
    flagged = np.flatnonzero((size >= p["min_group"]) & (z <= -p["z_below"]))
    detail = [{"z": round(float(z[i]), 2), "peers": int(size[i])} for i in flagged]
    return _hits(rule, flagged, np.full(len(flagged), pop.month_from), -z[flagged] / p["z_below"], detail)


def zero_with_neighbours(pop: Population, rule: AnalyticsRule, p: Mapping[str, Any]) -> Hits:
    month = pop.month
    zero = ~np.isnan(month) & (month <= p["zero_kwh"])
    zero_days = zero.sum(axis=1)
    on_dt = pop.dtr > 0
    mean = np.where(on_dt, _nanmean(month), np.nan)
    median, _, size = _group_stats(np.where(on_dt, pop.dtr, -1), mean)
    flagged = np.flatnonzero(
        on_dt & (zero_days >= p["min_zero_days"]) & (size - 1 >= p["min_neighbours"])
        & (median >= p["min_neighbour_kwh_per_day"])
    )  # fmt: skip
    first = pop.month_from + np.argmax(zero[flagged], axis=1)
    detail = [
        {"zero_days": int(zero_days[i]), "dt_median_kwh_per_day": round(float(median[i]), 3)} for i in flagged
    ]
    return _hits(rule, flagged, first, 1 + zero_days[flagged] / month.shape[1], detail)


def dt_diversion(pop: Population, rule: AnalyticsRule, p: Mapping[str, Any]) -> Hits:
    """Suspicion of a consumer on a lossy DT: its drop against its own history, plus how far
    below its peers it sits (robust z, scaled), capped at 1 each."""
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = (pop.dt_input_kwh - pop.dt_sold_kwh) / pop.dt_input_kwh
    lossy = (pop.dt_input_kwh >= p["min_input_kwh"]) & (loss * 100 >= p["min_loss_pct"])
    history, month = _nanmedian(pop.history), _nanmean(pop.month)
    with np.errstate(divide="ignore", invalid="ignore"):
        drop = np.clip(1 - month / history, 0, 1)
    z, _ = peer_z(pop, [1, 2, 5, 10, 20, 50])
    suspicion = np.nan_to_num(drop) + np.clip(np.nan_to_num(-z) / 10, 0, 1)
    out_row, out_score, detail = [], [], []
    for dt, dt_loss in zip(pop.dt_id[lossy], loss[lossy], strict=True):
        members = np.flatnonzero(pop.dtr == dt)
        ranked = members[np.argsort(-suspicion[members], kind="stable")][: p["max_consumers"]]
        for rank, r in enumerate(ranked[suspicion[ranked] >= p["min_suspicion"]], start=1):
            out_row.append(r)
            out_score.append(float(suspicion[r]) * (1 + float(dt_loss)))
            detail.append({"dt_id": int(dt), "dt_loss_pct": round(float(dt_loss) * 100, 1), "rank": rank,
                           "suspicion": round(float(suspicion[r]), 3), "on_dt": int(len(members))})  # fmt: skip
    return _hits(rule, out_row, np.full(len(out_row), pop.month_from), out_score, detail)


def _shares(zones: F64) -> F64:
    total = zones.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, zones / total, 0.0)


def shape_cluster_shift(pop: Population, rule: AnalyticsRule, p: Mapping[str, Any]) -> Hits:
    days_h = np.maximum((~np.isnan(pop.history)).sum(axis=1), 1)
    days_m = np.maximum((~np.isnan(pop.month)).sum(axis=1), 1)
    eligible = np.flatnonzero(
        (pop.zones_history.sum(axis=1) / days_h >= p["min_kwh_per_day"])
        & (pop.zones_month.sum(axis=1) / days_m >= p["min_kwh_per_day"] / 4)
    )
    if len(eligible) < p["clusters"] * 5:
        return _hits(rule, [], [], [], [])
    before, after = _shares(pop.zones_history[eligible]), _shares(pop.zones_month[eligible])
    model = KMeans(n_clusters=p["clusters"], n_init=3, random_state=p["seed"]).fit(before)
    was, now = model.labels_, model.predict(after)
    shift = np.abs(after - before).sum(axis=1)
    moved = np.flatnonzero((was != now) & (shift >= p["min_shift"]))
    rows = eligible[moved]
    detail = [{"from_cluster": int(was[i]), "to_cluster": int(now[i]), "shift": round(float(shift[i]), 3)}
              for i in moved]  # fmt: skip
    return _hits(rule, rows, np.full(len(rows), pop.month_from), 1 + shift[moved], detail)


RULE_TYPES: dict[str, Callable[[Population, AnalyticsRule, Mapping[str, Any]], Hits]] = {
    "tamper_persistence": tamper_persistence,
    "tamper_then_drop": tamper_then_drop,
    "trend_break": trend_break,
    "zero_with_neighbours": zero_with_neighbours,
    "peer_zscore": peer_zscore,
    "dt_diversion": dt_diversion,
    "shape_cluster_shift": shape_cluster_shift,
}


def run(analytics: AnalyticsSet, pop: Population) -> list[Hits]:
    """Every enabled rule of the set over the population."""
    return [RULE_TYPES[r.type](pop, r, r.parameters) for r in analytics.rules if r.enabled]
