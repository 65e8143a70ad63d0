"""Plain columnar inputs of the VEE engine: readings of one batch and per-meter attributes.

Times are int64 epoch seconds (UTC); an interval's timestamp is its end. Rows are sorted by
(meter, ts); `meter` is an index into the `MeterTable` arrays, not a database id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

QUALITIES = ("raw", "valid", "estimated", "edited", "failed", "suspect")
Q_RAW, Q_VALID, Q_ESTIMATED, Q_EDITED, Q_FAILED, Q_SUSPECT = range(6)
DATA_KINDS = ("interval", "register", "monthly_scalar")
# IST: a "day" of interval data is the local day; 00:00 IST is the end of the last interval.
IST_OFFSET_SECONDS = 19_800

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def quality_codes(names: Any) -> npt.NDArray[np.int8]:
    """Quality names (raw, valid, ...) to int8 codes."""
    lookup = {name: code for code, name in enumerate(QUALITIES)}
    return np.fromiter((lookup[str(n)] for n in names), dtype=np.int8, count=len(names))


def quality_names(codes: npt.NDArray[np.int8]) -> npt.NDArray[np.object_]:
    return np.asarray(QUALITIES, dtype=object)[codes]


def _nan(n: int) -> F64:
    return np.full(n, np.nan)


@dataclass
class MeterTable:
    """Attributes of the meters a frame refers to, one array element per meter index.

    History context (averages, the register read before the frame, estimation counts) is
    NaN / 0 when unknown; checks that need it skip those meters.
    """

    meter_id: I64
    meter_class: npt.NDArray[np.object_]
    tariff_category: npt.NDArray[np.object_]
    feeder_type: npt.NDArray[np.object_]
    multiplier: F64
    display_digits: npt.NDArray[np.int64]
    sanctioned_load: F64  # in kW, or kVA where load_in_kva
    load_in_kva: Bools
    net_metered: Bools
    interval_minutes: npt.NDArray[np.int64]
    avg_daily_kwh: F64
    avg_monthly_kwh: F64
    reported_multiplier: F64  # from the file's nameplate (CT/PT), NaN when not reported
    clock_drift_seconds: F64  # meter clock minus read time, NaN when not reported
    prev_register_kwh: F64  # last stored cumulative read before the frame
    prev_register_ts: I64
    prev_register_export_kwh: F64
    register_start_kwh: F64  # cumulative reads bracketing an interval frame (sum check)
    register_start_ts: I64
    register_end_kwh: F64
    register_end_ts: I64
    window_start_ts: I64  # the span an interval frame should cover (gap edges); 0 = unknown
    window_end_ts: I64
    history_estimated: I64  # estimated intervals in the look-back window before the frame
    history_total: I64

    def __len__(self) -> int:
        return len(self.meter_id)

    @classmethod
    def build(cls, n: int, **values: Any) -> MeterTable:
        """Defaults for every attribute not given: smart_1ph, MF 1, 6 digits, 15 min, no history."""
        defaults: dict[str, Any] = dict(
            meter_id=np.arange(n, dtype=np.int64),
            meter_class=np.full(n, "smart_1ph", dtype=object),
            tariff_category=np.full(n, "LV1", dtype=object),
            feeder_type=np.full(n, "urban", dtype=object),
            multiplier=np.ones(n),
            display_digits=np.full(n, 6, dtype=np.int64),
            sanctioned_load=np.full(n, np.inf),
            load_in_kva=np.zeros(n, dtype=bool),
            net_metered=np.zeros(n, dtype=bool),
            interval_minutes=np.full(n, 15, dtype=np.int64),
            avg_daily_kwh=_nan(n),
            avg_monthly_kwh=_nan(n),
            reported_multiplier=_nan(n),
            clock_drift_seconds=_nan(n),
            prev_register_kwh=_nan(n),
            prev_register_ts=np.zeros(n, dtype=np.int64),
            prev_register_export_kwh=_nan(n),
            register_start_kwh=_nan(n),
            register_start_ts=np.zeros(n, dtype=np.int64),
            register_end_kwh=_nan(n),
            register_end_ts=np.zeros(n, dtype=np.int64),
            window_start_ts=np.zeros(n, dtype=np.int64),
            window_end_ts=np.zeros(n, dtype=np.int64),
            history_estimated=np.zeros(n, dtype=np.int64),
            history_total=np.zeros(n, dtype=np.int64),
        )
        unknown = set(values) - set(defaults)
        if unknown:
            raise TypeError(f"unknown meter attributes: {sorted(unknown)}")
        for name, value in values.items():
            template = defaults[name]
            arr = np.asarray(value, dtype=template.dtype)
            defaults[name] = np.full(n, arr, dtype=template.dtype) if arr.ndim == 0 else arr
            if len(defaults[name]) != n:
                raise ValueError(f"meter attribute {name}: {len(defaults[name])} values for {n} meters")
        return cls(**defaults)


@dataclass
class Frame:
    """Readings of one data kind, wide by channel: one row per (meter, ts).

    interval: per-interval kwh (required), kvah, kwh_export, pf, frequency_hz, voltage_v.
    register / monthly_scalar: cumulative kwh, kvah, kwh_export, md_kw, md_kva, avg_pf;
    monthly_scalar rows also carry `reading_status`.
    """

    kind: str
    meter: I64
    ts: I64
    channels: dict[str, F64]
    quality_in: npt.NDArray[np.int8] = field(default_factory=lambda: np.empty(0, dtype=np.int8))
    reading_status: npt.NDArray[np.object_] | None = None
    # Arrays derived once per frame and shared by the checks (group starts, steps, ...).
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def derived(self, key: Any, make: Any) -> Any:
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def __post_init__(self) -> None:
        if self.kind not in DATA_KINDS:
            raise ValueError(f"unknown data kind {self.kind!r}")
        n = len(self.ts)
        if len(self.quality_in) != n:
            self.quality_in = np.full(n, Q_RAW, dtype=np.int8)
        for name, values in self.channels.items():
            if len(values) != n:
                raise ValueError(f"channel {name}: {len(values)} values for {n} rows")

    def __len__(self) -> int:
        return len(self.ts)

    def channel(self, name: str) -> F64 | None:
        return self.channels.get(name)

    def is_sorted(self) -> bool:
        if len(self) < 2:
            return True
        m, t = self.meter, self.ts
        return bool(np.all((m[1:] > m[:-1]) | ((m[1:] == m[:-1]) & (t[1:] >= t[:-1]))))

    def sorted(self) -> tuple[Frame, npt.NDArray[np.intp]]:
        """The frame in (meter, ts) order and the permutation used (identity if already sorted)."""
        if self.is_sorted():
            return self, np.arange(len(self))
        order = np.lexsort((self.ts, self.meter))
        return self.take(order), order

    def take(self, rows: npt.NDArray[Any]) -> Frame:
        return Frame(
            kind=self.kind,
            meter=self.meter[rows],
            ts=self.ts[rows],
            channels={k: v[rows] for k, v in self.channels.items()},
            quality_in=self.quality_in[rows],
            reading_status=None if self.reading_status is None else self.reading_status[rows],
        )
