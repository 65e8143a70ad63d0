"""Reading what VEE needs from the store into the engine's plain arrays (rules.frames).

Meters become indices into a MeterTable; interval rows (one per channel) are pivoted to one
row per (meter, interval end); history context comes from aggregate queries, not row loops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

from rules.frames import QUALITIES, Frame, MeterTable, quality_codes

INTERVAL_CHANNELS = {"kwh": "kwh", "kvah": "kvah", "kwh_export": "kwh_export", "voltage_r": "voltage_v"}
REGISTER_CHANNELS = ("kwh", "kvah", "kwh_export", "md_kw", "md_kva", "avg_pf")
HISTORY_DAYS = 28


@dataclass
class Meters:
    table: MeterTable
    ids: npt.NDArray[np.int64]  # sorted meter ids; index i is MeterTable row i
    org_unit_id: npt.NDArray[np.int64]

    def index(self, meter_ids: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        return np.searchsorted(self.ids, meter_ids).astype(np.int64)


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def load_meters(session: Session, meter_ids: list[int], start: datetime, end: datetime) -> Meters:
    rows = session.execute(
        text(
            "SELECT DISTINCT ON (m.id) m.id, m.meter_class, m.multiplying_factor, m.display_digits,"
            " m.org_unit_id, c.tariff_category, c.sanctioned_load, c.sanctioned_load_unit,"
            " COALESCE(c.is_net_metered, m.meter_class = 'net') AS net, f.feeder_type"
            " FROM meters m"
            " LEFT JOIN installations i ON i.meter_id = m.id AND i.installed_at < :end"
            "  AND (i.removed_at IS NULL OR i.removed_at > :start)"
            " LEFT JOIN consumers c ON c.id = i.consumer_id"
            " LEFT JOIN consumer_supply_links l ON l.consumer_id = c.id AND l.valid_to IS NULL"
            " LEFT JOIN dtr_feeder_links df ON df.dtr_id = l.dtr_id AND df.valid_to IS NULL"
            " LEFT JOIN feeders f ON f.id = COALESCE(l.feeder_id, df.feeder_id, i.feeder_id)"
            " WHERE m.id = ANY(:ids) ORDER BY m.id, i.installed_at DESC NULLS LAST"
        ),
        {"ids": list(meter_ids), "start": start, "end": end},
    ).all()
    n = len(rows)
    load = np.array([float(r.sanctioned_load) if r.sanctioned_load is not None else np.inf for r in rows])
    table = MeterTable.build(
        n,
        meter_id=[r.id for r in rows],
        meter_class=np.array([r.meter_class for r in rows], dtype=object),
        tariff_category=np.array([r.tariff_category or "" for r in rows], dtype=object),
        feeder_type=np.array([r.feeder_type or "" for r in rows], dtype=object),
        multiplier=[float(r.multiplying_factor) for r in rows],
        display_digits=[r.display_digits for r in rows],
        sanctioned_load=np.where(load > 0, load, np.inf),
        load_in_kva=[r.sanctioned_load_unit == "kVA" for r in rows],
        net_metered=[bool(r.net) for r in rows],
        window_start_ts=epoch(start),
        window_end_ts=epoch(end),
    )
    return Meters(table, table.meter_id, np.array([r.org_unit_id for r in rows], dtype=np.int64))


def _pivot(rows: Sequence[Any], meters: Meters, channels: dict[str, str], kind: str) -> tuple[Frame, Any]:
    """Long rows (meter_id, channel, ts, value, quality, extra) to a wide frame by (meter, ts)."""
    if not rows:
        empty = np.empty(0, dtype=np.int64)
        return Frame(kind, empty, empty, {"kwh": np.empty(0)}), np.empty(0, dtype=object)
    meter = meters.index(np.fromiter((r[0] for r in rows), np.int64, len(rows)))
    ts = np.fromiter((r[2] for r in rows), np.int64, len(rows))
    keys = (meter << 32) | ts
    unique, inverse = np.unique(keys, return_inverse=True)
    wide: dict[str, npt.NDArray[np.float64]] = {}
    quality = np.full(len(unique), "raw", dtype=object)
    extra = np.full(len(unique), None, dtype=object)
    names = np.array([r[1] for r in rows], dtype=object)
    values = np.array([np.nan if r[3] is None else r[3] for r in rows], dtype=np.float64)
    for stored, name in channels.items():
        mask = names == stored
        if mask.any():
            wide[name] = np.full(len(unique), np.nan)
            wide[name][inverse[mask]] = values[mask]
    kwh_rows = names == "kwh"
    kwh_at = np.flatnonzero(kwh_rows).tolist()
    quality[inverse[kwh_rows]] = [rows[i][4] for i in kwh_at]
    extra[inverse[kwh_rows]] = [rows[i][5] for i in kwh_at]
    wide.setdefault("kwh", np.full(len(unique), np.nan))
    frame = Frame(kind, unique >> 32, unique & 0xFFFFFFFF, wide, quality_codes(quality))
    return frame, extra


def load_intervals(session: Session, meters: Meters, start: datetime, end: datetime) -> Frame:
    rows = session.execute(
        text(
            "SELECT meter_id, channel, extract(epoch FROM interval_end)::bigint, value, quality,"
            " interval_minutes FROM interval_readings"
            " WHERE meter_id = ANY(:ids) AND interval_end > :start AND interval_end <= :end"
        ),
        {"ids": meters.ids.tolist(), "start": start, "end": end},
    ).all()
    frame, minutes = _pivot(rows, meters, INTERVAL_CHANNELS, "interval")
    if len(frame):
        first = np.unique(frame.meter, return_index=True)[1]
        known = minutes[first] != None  # noqa: E711 - object array comparison
        meters.table.interval_minutes[frame.meter[first][known]] = minutes[first][known].astype(np.int64)
    return frame


def load_interval_history(session: Session, meters: Meters, start: datetime) -> None:
    """Average daily use, estimated share and bracketing daily registers into the MeterTable."""
    t = meters.table
    params = {"ids": meters.ids.tolist(), "start": start, "days": HISTORY_DAYS}
    for r in session.execute(
        text(
            "SELECT meter_id, sum(value) FILTER (WHERE quality IN ('valid','estimated','edited','suspect'))"
            " * 1440.0 / NULLIF(sum(interval_minutes) FILTER (WHERE quality IN"
            " ('valid','estimated','edited','suspect')), 0) AS daily,"
            " count(*) FILTER (WHERE quality = 'estimated') AS est, count(*) AS total"
            " FROM interval_readings WHERE channel = 'kwh' AND meter_id = ANY(:ids)"
            " AND interval_end > :start - make_interval(days => :days) AND interval_end <= :start"
            " GROUP BY meter_id"
        ),
        params,
    ):
        i = meters.index(np.array([r.meter_id]))[0]
        t.avg_daily_kwh[i] = np.nan if r.daily is None else float(r.daily)
        t.history_estimated[i], t.history_total[i] = r.est, r.total
    for r in session.execute(
        text(
            "SELECT meter_id, extract(epoch FROM read_at)::bigint AS at, value FROM register_reads"
            " WHERE kind = 'daily' AND channel = 'kwh' AND tod_zone = 0 AND meter_id = ANY(:ids)"
            " AND read_at IN (:start, :end) AND quality NOT IN ('failed')"
        ),
        {**params, "end": datetime.fromtimestamp(int(t.window_end_ts[0]), start.tzinfo) if len(t) else start},
    ):
        i = meters.index(np.array([r.meter_id]))[0]
        if r.at == t.window_start_ts[i]:
            t.register_start_kwh[i], t.register_start_ts[i] = r.value, r.at
        else:
            t.register_end_kwh[i], t.register_end_ts[i] = r.value, r.at


def load_history_frame(
    session: Session, meters: Meters, meter_idx: npt.NDArray[Any], start: datetime
) -> Frame:
    """Trusted kWh intervals of the previous weeks for the like-day average."""
    rows = session.execute(
        text(
            "SELECT meter_id, channel, extract(epoch FROM interval_end)::bigint, value, quality, NULL"
            " FROM interval_readings WHERE channel = 'kwh' AND meter_id = ANY(:ids)"
            " AND quality IN ('valid', 'edited', 'suspect')"
            " AND interval_end > :start - interval '29 days' AND interval_end <= :start"
        ),
        {"ids": meters.ids[np.unique(meter_idx)].tolist(), "start": start},
    ).all()
    return _pivot(rows, meters, {"kwh": "kwh"}, "interval")[0]


def load_registers(session: Session, meters: Meters, start: datetime, end: datetime, scalar: bool) -> Frame:
    kinds = ["scalar"] if scalar else ["daily", "billing"]
    rows = session.execute(
        text(
            "SELECT meter_id, channel, extract(epoch FROM read_at)::bigint, value, quality, reading_status"
            " FROM register_reads WHERE meter_id = ANY(:ids) AND kind = ANY(:kinds) AND tod_zone = 0"
            " AND read_at > :start AND read_at <= :end"
        ),
        {"ids": meters.ids.tolist(), "kinds": kinds, "start": start, "end": end},
    ).all()
    kind = "monthly_scalar" if scalar else "register"
    frame, status = _pivot(rows, meters, {c: c for c in REGISTER_CHANNELS}, kind)
    if scalar:
        frame.reading_status = np.where(status == None, "normal", status).astype(object)  # noqa: E711
    t = meters.table
    for r in session.execute(
        text(
            "SELECT DISTINCT ON (meter_id, channel) meter_id, channel, value FROM register_reads"
            " WHERE meter_id = ANY(:ids) AND kind = ANY(:kinds) AND tod_zone = 0 AND read_at <= :start"
            " AND channel IN ('kwh', 'kwh_export') AND quality <> 'failed' AND value IS NOT NULL"
            " ORDER BY meter_id, channel, read_at DESC"
        ),
        {"ids": meters.ids.tolist(), "kinds": kinds, "start": start},
    ):
        i = meters.index(np.array([r.meter_id]))[0]
        target = t.prev_register_kwh if r.channel == "kwh" else t.prev_register_export_kwh
        target[i] = r.value
    if scalar:
        for r in session.execute(
            text(
                "SELECT meter_id, (max(value) - min(value)) / NULLIF(count(*) - 1, 0) AS monthly FROM ("
                " SELECT meter_id, value, row_number() OVER (PARTITION BY meter_id ORDER BY read_at DESC) AS n"
                " FROM register_reads WHERE meter_id = ANY(:ids) AND kind = 'scalar' AND channel = 'kwh'"
                " AND tod_zone = 0 AND read_at <= :start AND quality <> 'failed' AND value IS NOT NULL)"
                " r WHERE n <= 7"
                " GROUP BY meter_id"
            ),
            {"ids": meters.ids.tolist(), "start": start},
        ):
            i = meters.index(np.array([r.meter_id]))[0]
            t.avg_monthly_kwh[i] = np.nan if r.monthly is None else float(r.monthly) * float(t.multiplier[i])
    return frame


QUALITY_NAMES = np.asarray(QUALITIES, dtype=object)
