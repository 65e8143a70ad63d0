"""Reading what VEE needs from the store into the engine's plain arrays (rules.frames).

Meters become indices into a MeterTable; interval rows (one per channel) are pivoted to one
row per (meter, interval end); history context comes from aggregate queries, not row loops.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import text
from sqlalchemy.orm import Session

from rules.frames import Q_RAW, QUALITIES, Frame, MeterTable, quality_codes
from service.readings.store import CODES, raw_connection

INTERVAL_CHANNELS = {"kwh": "kwh", "kvah": "kvah", "kwh_export": "kwh_export", "voltage_r": "voltage_v"}
REGISTER_CHANNELS = ("kwh", "kvah", "kwh_export", "md_kw", "md_kva", "avg_pf")
HISTORY_DAYS = 28
LIKE_DAY_DAYS = 29  # trusted intervals read for the like-day estimate
# How far back the previous register (and the scalar reads behind the average) are looked
# for: bounded so that a batch reads the partitions of its own span and this far back, never
# the whole store. Seven monthly reads fit well inside it.
REGISTER_LOOKBACK = timedelta(days=400)


@dataclass
class Meters:
    table: MeterTable
    ids: npt.NDArray[np.int64]  # sorted meter ids; index i is MeterTable row i
    org_unit_id: npt.NDArray[np.int64]

    def index(self, meter_ids: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        return np.searchsorted(self.ids, meter_ids).astype(np.int64)


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


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


def fetch_columns(
    session: Session, query: str, params: dict[str, Any], columns: Sequence[tuple[str, str]]
) -> dict[str, npt.NDArray[Any]]:
    """Run `query` as a binary COPY out and read its columns straight into numpy arrays.

    Every column must be fixed-width and non-null (COALESCE in the query): then each tuple
    has the same layout and the whole answer is one `np.frombuffer`. Measured: building
    SQLAlchemy rows and looping over them cost as much as the query itself.
    """
    cur = raw_connection(session).cursor()
    try:
        statement = cur.mogrify(f"COPY ({query}) TO STDOUT WITH (FORMAT binary)", params).decode()
        buffer = io.BytesIO()
        cur.copy_expert(statement, buffer)
    finally:
        cur.close()
    data = buffer.getbuffer()
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for i, (name, dtype) in enumerate(columns):
        fields += [(f"l{i}", ">i4"), (name, dtype)]
    layout = np.dtype(fields)
    count = (len(data) - _COPY_HEADER - 2) // layout.itemsize
    rows = np.frombuffer(data, dtype=layout, count=count, offset=_COPY_HEADER)
    return {name: rows[name].astype(np.dtype(dtype).newbyteorder("=")) for name, dtype in columns}


_COPY_HEADER = 19  # signature (11), flags (4), header extension length (4, zero)
_QUALITY_CODE = "(array_position(ARRAY['" + "','".join(QUALITIES) + "'], quality) - 1)::int2"


def pivot_columns(
    meter_ids: npt.NDArray[Any],
    channel_codes: npt.NDArray[Any],
    ts: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    quality: npt.NDArray[Any],
    extra: npt.NDArray[Any],
    meters: Meters,
    stored_names: Sequence[str],
    channels: dict[str, str],
    kind: str,
) -> tuple[Frame, Any]:
    """Long columns (one row per channel) to a wide frame by (meter, ts); quality and `extra`
    come from the kWh row. `channel_codes` index `stored_names`."""
    if len(ts) == 0:
        empty = np.empty(0, dtype=np.int64)
        return Frame(kind, empty, empty, {"kwh": np.empty(0)}), np.empty(0, dtype=object)
    meter = meters.index(meter_ids)
    keys = (meter << 32) | ts.astype(np.int64)
    unique, inverse = np.unique(keys, return_inverse=True)
    wide: dict[str, npt.NDArray[np.float64]] = {}
    for code, stored in enumerate(stored_names):
        name = channels.get(stored)
        mask = channel_codes == code
        if name is not None and mask.any():
            wide[name] = np.full(len(unique), np.nan)
            wide[name][inverse[mask]] = values[mask]
    kwh_rows = channel_codes == list(stored_names).index("kwh")
    quality_out = np.full(len(unique), Q_RAW, dtype=np.int8)
    quality_out[inverse[kwh_rows]] = quality[kwh_rows]
    extra_out = np.full(len(unique), None, dtype=object)
    extra_out[inverse[kwh_rows]] = extra[kwh_rows]
    wide.setdefault("kwh", np.full(len(unique), np.nan))
    frame = Frame(kind, unique >> 32, unique & 0xFFFFFFFF, wide, quality_out)
    return frame, extra_out


def _pivot(rows: Sequence[Any], meters: Meters, channels: dict[str, str], kind: str) -> tuple[Frame, Any]:
    """Long rows (meter_id, channel, ts, value, quality, extra) to a wide frame by (meter, ts)."""
    n = len(rows)
    names = np.array([r[1] for r in rows], dtype=object)
    stored = list(dict.fromkeys(names.tolist())) or ["kwh"]
    if "kwh" not in stored:
        stored.append("kwh")
    lookup = {name: i for i, name in enumerate(stored)}
    return pivot_columns(
        np.fromiter((r[0] for r in rows), np.int64, n),
        np.fromiter((lookup[x] for x in names), np.int64, n),
        np.fromiter((r[2] for r in rows), np.int64, n),
        np.array([np.nan if r[3] is None else r[3] for r in rows], dtype=np.float64),
        quality_codes([r[4] for r in rows]),
        np.array([r[5] for r in rows] + [None], dtype=object)[:n],
        meters,
        stored,
        channels,
        kind,
    )


_INTERVAL_COLUMNS = (
    ("meter_id", ">i4"),
    ("channel", ">i2"),
    ("ts", ">i8"),
    ("value", ">f8"),
    ("quality", ">i2"),
    ("minutes", ">i2"),
)


def _interval_columns(
    session: Session, where: str, params: dict[str, Any], stored_names: Sequence[str]
) -> dict[str, npt.NDArray[Any]]:
    channel_list = "ARRAY['" + "','".join(stored_names) + "']"
    return fetch_columns(
        session,
        f"SELECT meter_id, (array_position({channel_list}, channel::text) - 1)::int2,"  # noqa: S608
        " extract(epoch FROM interval_end)::int8, COALESCE(value, 'NaN'::float8),"
        f" {_QUALITY_CODE}, COALESCE(interval_minutes, 0)::int2 FROM interval_readings"
        f" WHERE meter_id = ANY(%(ids)s::int[]) AND channel = ANY({channel_list}) AND {where}",
        params,
        _INTERVAL_COLUMNS,
    )


# Frame.cache key of the stored rows behind a frame (meter index, channel, ts): the flags are
# written to exactly these keys, each found by the whole primary key.
STORED_ROWS = "cmdms.stored_rows"


def load_intervals(session: Session, meters: Meters, start: datetime, end: datetime) -> Frame:
    stored = list(CODES["interval_channel"])  # every channel: each gets the flag of its (meter, ts)
    cols = _interval_columns(
        session,
        "interval_end > %(start)s AND interval_end <= %(end)s",
        {"ids": meters.ids.tolist(), "start": start, "end": end},
        stored,
    )
    minutes = cols["minutes"].astype(np.int64)
    frame, first_minutes = pivot_columns(
        cols["meter_id"], cols["channel"], cols["ts"], cols["value"], cols["quality"],
        minutes.astype(object), meters, stored, INTERVAL_CHANNELS, "interval",
    )  # fmt: skip
    frame.cache[STORED_ROWS] = (
        meters.index(cols["meter_id"]),
        np.asarray(stored, dtype=object)[cols["channel"]],
        cols["ts"].astype(np.int64),
    )
    if len(frame):
        first = np.unique(frame.meter, return_index=True)[1]
        known = np.array([m is not None and m > 0 for m in first_minutes[first]], dtype=bool)
        meters.table.interval_minutes[frame.meter[first][known]] = first_minutes[first][known].astype(
            np.int64
        )
    return frame


def load_interval_history(session: Session, meters: Meters, start: datetime) -> None:
    """Average daily use, estimated share and bracketing daily registers into the MeterTable."""
    t = meters.table
    params = {"ids": meters.ids.tolist(), "start": start, "since": start - timedelta(days=HISTORY_DAYS)}
    for r in session.execute(
        text(
            "SELECT meter_id, sum(value) FILTER (WHERE quality IN ('valid','estimated','edited','suspect'))"
            " * 1440.0 / NULLIF(sum(interval_minutes) FILTER (WHERE quality IN"
            " ('valid','estimated','edited','suspect')), 0) AS daily,"
            " count(*) FILTER (WHERE quality = 'estimated') AS est, count(*) AS total"
            " FROM interval_readings WHERE channel = 'kwh' AND meter_id = ANY(:ids)"
            " AND interval_end > :since AND interval_end <= :start"
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
    cols = _interval_columns(
        session,
        "quality IN ('valid', 'edited', 'suspect')"
        " AND interval_end > %(since)s AND interval_end <= %(start)s",
        {
            "ids": meters.ids[np.unique(meter_idx)].tolist(),
            "start": start,
            "since": start - timedelta(days=LIKE_DAY_DAYS),
        },
        ["kwh"],
    )
    n = len(cols["ts"])
    return pivot_columns(
        cols["meter_id"], cols["channel"], cols["ts"], cols["value"], cols["quality"],
        np.full(n, None, dtype=object), meters, ["kwh"], {"kwh": "kwh"}, "interval",
    )[0]  # fmt: skip


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
            " AND read_at > :since"
            " AND channel IN ('kwh', 'kwh_export') AND quality <> 'failed' AND value IS NOT NULL"
            " ORDER BY meter_id, channel, read_at DESC"
        ),
        {"ids": meters.ids.tolist(), "kinds": kinds, "start": start, "since": start - REGISTER_LOOKBACK},
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
                " AND tod_zone = 0 AND read_at <= :start AND read_at > :since"
                " AND quality <> 'failed' AND value IS NOT NULL)"
                " r WHERE n <= 7"
                " GROUP BY meter_id"
            ),
            {"ids": meters.ids.tolist(), "start": start, "since": start - REGISTER_LOOKBACK},
        ):
            i = meters.index(np.array([r.meter_id]))[0]
            t.avg_monthly_kwh[i] = np.nan if r.monthly is None else float(r.monthly) * float(t.multiplier[i])
    return frame


QUALITY_NAMES = np.asarray(QUALITIES, dtype=object)
