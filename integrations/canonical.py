"""The canonical columnar batch: what every adapter parses into and the store takes in.

Each kind of measurement is a set of equal-length columns (numpy arrays or lists), so a
whole file or request is validated, sorted and COPY'd without a Python object per reading.
Timestamps are UTC `datetime64[s]`; an interval's timestamp is its end. Meters are named by
serial number (the store resolves them to ids; unknown ones go to quarantine).

Rows an adapter could not read are not dropped: each becomes a `Reject` naming where it was
(message index, meter, timestamp, field) and why, and is reported to the sender.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

# Interval (block load) channels, with units. Energy channels are per interval, not cumulative.
INTERVAL_CHANNELS: dict[str, str] = {
    "kwh": "kWh",
    "kvah": "kVAh",
    "kvarh_lag": "kvarh",
    "kvarh_lead": "kvarh",
    "kwh_export": "kWh",
    "kvah_export": "kVAh",
    "voltage_r": "V",
    "voltage_y": "V",
    "voltage_b": "V",
    "current_r": "A",
    "current_y": "A",
    "current_b": "A",
    # Added for IEC 61968-9 senders (appended: codes of the ones above stay as they were).
    "kwh_net": "kWh",
    "pf": "",
    "frequency": "Hz",
    # Net meters (issue 17): reactive energy while exporting, by IEC 61968-9 quadrant
    # (Q2: export kW, import kvar; Q3: export kW, export kvar). Q1/Q4 are kvarh_lag/kvarh_lead.
    "kvarh_q2": "kvarh",
    "kvarh_q3": "kvarh",
}
# Register (cumulative) quantities of daily and billing profiles and scalar reads.
REGISTER_CHANNELS: dict[str, str] = {
    "kwh": "kWh",
    "kvah": "kVAh",
    "kwh_export": "kWh",
    "kvah_export": "kVAh",
    "kvarh_lag": "kvarh",
    "kvarh_lead": "kvarh",
    "md_kw": "kW",
    "md_kva": "kVA",
    "avg_pf": "",
    "power_on_hours": "h",
    # Instantaneous snapshots and net energy as IEC 61968-9 senders report them.
    "kwh_net": "kWh",
    "voltage_r": "V",
    "voltage_y": "V",
    "voltage_b": "V",
    "current_r": "A",
    "current_y": "A",
    "current_b": "A",
    "pf": "",
    "frequency": "Hz",
    "kw": "kW",
    "kva": "kVA",
    "kvarh_q2": "kvarh",
    "kvarh_q3": "kvarh",
}
# Plausible values per channel, (low, high) in the channel's unit, checked once at ingest for
# every source (HES JSON, CIM, CDF, SCADA, scalar reads). Generous: an HT consumer or a 33 kV
# feeder stays far inside; a decimal-point slip or 1e308 does not. Interval energy is never
# negative: export has its own channels, so a negative kWh is a fault, refused, not estimated on.
_ENERGY_PER_INTERVAL = (0.0, 1e6)
INTERVAL_LIMITS: dict[str, tuple[float, float]] = {
    **dict.fromkeys(
        ("kwh", "kvah", "kvarh_lag", "kvarh_lead", "kwh_export", "kvah_export", "kvarh_q2", "kvarh_q3"),
        _ENERGY_PER_INTERVAL,
    ),
    **dict.fromkeys(("voltage_r", "voltage_y", "voltage_b"), (0.0, 1000000.0)),
    **dict.fromkeys(("current_r", "current_y", "current_b"), (0.0, 100000.0)),
    "kwh_net": (-1e6, 1e6),  # import minus export: either sign
    "pf": (-1.0, 1.0),
    "frequency": (0.0, 100.0),
}
# Feeder and DT energy per interval (SCADA / SHMS / MDAS): a 132 kV bay is still far below.
NETWORK_LIMITS: dict[str, tuple[float, float]] = {c: (lo, hi * 10) for c, (lo, hi) in INTERVAL_LIMITS.items()}
REGISTER_LIMITS: dict[str, tuple[float, float]] = {
    **dict.fromkeys(
        ("kwh", "kvah", "kwh_export", "kvah_export", "kvarh_lag", "kvarh_lead", "kvarh_q2", "kvarh_q3"),
        (0.0, 1000000000000.0),
    ),
    "md_kw": (0.0, 1e7),
    "md_kva": (0.0, 1e7),
    "avg_pf": (-1.0, 1.0),
    "power_on_hours": (0.0, 1e6),
    "kwh_net": (-1e12, 1e12),
    **dict.fromkeys(("voltage_r", "voltage_y", "voltage_b"), (0.0, 1e6)),
    **dict.fromkeys(("current_r", "current_y", "current_b"), (0.0, 1e5)),
    "pf": (-1.0, 1.0),
    "frequency": (0.0, 100.0),
    "kw": (-1e7, 1e7),  # instantaneous demand: negative when exporting
    "kva": (0.0, 1e7),
}
# Every channel has its limits (a test checks the tables cover the vocabularies).
REGISTER_KINDS = ("daily", "billing", "scalar", "instant")
# Monthly scalar reading status as billing and the reading app send it.
READING_STATUSES = (
    "normal",
    "door_locked",
    "meter_defective",
    "meter_burnt",
    "no_display",
    "meter_stopped",
    "meter_not_found",
    "premises_vacant",
    "reading_not_taken",
)

DT64 = "datetime64[s]"


def _empty(dtype: Any) -> npt.NDArray[Any]:
    return np.empty(0, dtype=dtype)


@dataclass
class Intervals:
    """Block-load values: one row per (meter, channel, interval_end)."""

    meter: npt.NDArray[np.object_] = field(default_factory=lambda: _empty(object))
    channel: npt.NDArray[np.object_] = field(default_factory=lambda: _empty(object))
    interval_end: npt.NDArray[np.datetime64] = field(default_factory=lambda: _empty(DT64))
    value: npt.NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    interval_minutes: npt.NDArray[np.int16] = field(default_factory=lambda: _empty(np.int16))

    def __len__(self) -> int:
        return len(self.value)


@dataclass
class Registers:
    """Cumulative register reads (daily, billing, monthly scalar, instantaneous snapshot).

    `tod_zone` 0 is the total; 1..8 are TOD zones of the billing profile. `occurred_at` is the
    MD's time for md_* channels (NaT elsewhere). `reading_status` is set for scalar reads.
    """

    meter: npt.NDArray[np.object_] = field(default_factory=lambda: _empty(object))
    kind: npt.NDArray[np.object_] = field(default_factory=lambda: _empty(object))
    channel: npt.NDArray[np.object_] = field(default_factory=lambda: _empty(object))
    tod_zone: npt.NDArray[np.int16] = field(default_factory=lambda: _empty(np.int16))
    read_at: npt.NDArray[np.datetime64] = field(default_factory=lambda: _empty(DT64))
    value: npt.NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    occurred_at: npt.NDArray[np.datetime64] = field(default_factory=lambda: _empty(DT64))
    reading_status: npt.NDArray[np.object_] = field(default_factory=lambda: _empty(object))

    def __len__(self) -> int:
        return len(self.value)


@dataclass
class Events:
    """Meter events by IS 15959 code; `restored_at` NaT while open. `snapshot` holds the
    values captured with the event (current, voltage, PF, cumulative kWh), as JSON-able dicts."""

    meter: npt.NDArray[np.object_] = field(default_factory=lambda: _empty(object))
    code: npt.NDArray[np.int32] = field(default_factory=lambda: _empty(np.int32))
    occurred_at: npt.NDArray[np.datetime64] = field(default_factory=lambda: _empty(DT64))
    restored_at: npt.NDArray[np.datetime64] = field(default_factory=lambda: _empty(DT64))
    snapshot: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.code)


@dataclass
class NetworkEnergy:
    """Feeder and DT energy from SCADA / SHMS / MDAS: kind 'feeder' or 'dtr', by network code."""

    kind: npt.NDArray[np.object_] = field(default_factory=lambda: _empty(object))
    code: npt.NDArray[np.object_] = field(default_factory=lambda: _empty(object))
    channel: npt.NDArray[np.object_] = field(default_factory=lambda: _empty(object))
    interval_end: npt.NDArray[np.datetime64] = field(default_factory=lambda: _empty(DT64))
    value: npt.NDArray[np.float64] = field(default_factory=lambda: _empty(np.float64))
    interval_minutes: npt.NDArray[np.int16] = field(default_factory=lambda: _empty(np.int16))

    def __len__(self) -> int:
        return len(self.value)


@dataclass(frozen=True)
class Nameplate:
    """What a file says about its meter (CDF D1), checked against master data."""

    meter: str
    make: str | None = None
    meter_type: str | None = None
    ct_ratio: str | None = None
    pt_ratio: str | None = None
    firmware: str | None = None
    demand_integration_minutes: int | None = None
    meter_clock: np.datetime64 | None = None
    read_at: np.datetime64 | None = None


@dataclass(frozen=True)
class Reject:
    """A row that was read but refused: where it was and why (reported, never dropped)."""

    locator: str  # "readings[3].intervals[17]", "D4/DAYPROFILE[2]/IP[48]", "line 12"
    field: str
    reason: str
    meter: str | None = None
    timestamp: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "locator": self.locator,
            "meter": self.meter,
            "timestamp": self.timestamp,
            "field": self.field,
            "reason": self.reason,
        }


@dataclass
class CanonicalBatch:
    source: str  # "hes:<code>", "cim:<sender>", "amr-cdf", "scada", "billing-scalar", ...
    intervals: Intervals = field(default_factory=Intervals)
    registers: Registers = field(default_factory=Registers)
    events: Events = field(default_factory=Events)
    network: NetworkEnergy = field(default_factory=NetworkEnergy)
    nameplates: list[Nameplate] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    # The sender's message / file id, for idempotent re-delivery and tracing.
    message_id: str | None = None

    @property
    def value_count(self) -> int:
        return len(self.intervals) + len(self.registers) + len(self.events) + len(self.network)


class ParseError(ValueError):
    """The whole input is unreadable (not XML, wrong root, bomb, over limits): reject it whole."""

    def __init__(self, reason: str, code: str = "unparseable") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
