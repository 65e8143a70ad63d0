"""Deterministic meter days for the simulators: realistic load shapes and deliberate faults.

`simulate_day(meter, day)` gives one meter's block-load day (local interval ends, energies,
voltages, currents), its cumulative registers and its events; each format's simulator only
formats it. Same meter, day and seed -> the same numbers, on any machine.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

SHAPES = ("domestic", "commercial", "industrial", "agricultural", "feeder", "dt")
FAULTS = ("gap", "spike", "zero_run", "tamper_magnet", "power_failure")
ANCHOR_DAY = date(2026, 1, 1)
IST_OFFSET_SECONDS = 19_800

# Relative demand by local hour (0..23).
# fmt: off
_HOURLY: dict[str, list[float]] = {
    # Domestic: small night base, morning bump, evening peak 18-23 h.
    "domestic": [0.25, 0.2, 0.18, 0.18, 0.2, 0.3, 0.55, 0.65, 0.55, 0.4, 0.35, 0.35,
                 0.35, 0.35, 0.35, 0.35, 0.4, 0.55, 0.85, 1.0, 1.0, 0.9, 0.7, 0.4],
    "commercial": [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.15, 0.2, 0.4, 0.7, 0.9, 1.0,
                   1.0, 0.95, 0.95, 0.95, 0.95, 0.95, 1.0, 1.0, 0.9, 0.6, 0.2, 0.1],
    # Industrial: two shifts 06-14 and 14-22, a skeleton load at night.
    "industrial": [0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.9, 1.0, 1.0, 1.0, 1.0, 0.95,
                   0.9, 0.95, 1.0, 1.0, 1.0, 1.0, 0.95, 0.95, 0.9, 0.9, 0.3, 0.2],
    "feeder": [0.45, 0.4, 0.38, 0.38, 0.4, 0.5, 0.7, 0.8, 0.8, 0.75, 0.75, 0.75,
               0.75, 0.75, 0.75, 0.75, 0.8, 0.85, 0.95, 1.0, 1.0, 0.9, 0.7, 0.55],
}
# fmt: on
_HOURLY["dt"] = _HOURLY["feeder"]
# Agricultural feeders get rostered three-phase supply, 8-10 h a day, rotated by group.
_ROSTERS = ((22, 8), (6, 14), (14, 22), (10, 18))


@dataclass(frozen=True)
class SimMeter:
    serial: str
    shape: str = "domestic"
    interval_minutes: int = 15
    daily_kwh: float = 6.0
    phases: int = 1
    make: str = "Secure Meters"
    ct_ratio: str | None = None
    pt_ratio: str | None = None
    start_kwh: float = 1_000.0
    faults: tuple[str, ...] = ()


@dataclass
class SimDay:
    meter: SimMeter
    day: date
    interval_minutes: int
    local_ends: npt.NDArray[np.int64]  # epoch seconds of local (IST) wall-clock interval ends
    present: npt.NDArray[np.bool_]  # False = the meter recorded nothing (a gap)
    channels: dict[str, npt.NDArray[np.float64]]
    register_start_kwh: float
    register_start_kvah: float
    register_end_kwh: float
    register_end_kvah: float
    md_kw: float
    md_local_at: int
    events: list[tuple[int, int]] = field(default_factory=list)  # (IS 15959 code, local epoch)

    @property
    def utc_ends(self) -> npt.NDArray[np.int64]:
        return self.local_ends - IST_OFFSET_SECONDS


def rng_for(serial: str, day: date, seed: int = 0) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(serial.encode()), day.toordinal(), seed])


def local_midnight(day: date) -> int:
    return int(np.datetime64(day.isoformat(), "s").astype(np.int64))


def shape_profile(meter: SimMeter, day: date, n: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    per_hour = n // 24
    hour = np.arange(n) // per_hour
    if meter.shape == "agricultural":
        start, stop = _ROSTERS[zlib.crc32(meter.serial.encode()) % len(_ROSTERS)]
        on = (hour >= start) | (hour < stop) if start > stop else (hour >= start) & (hour < stop)
        base = np.where(on, 1.0, 0.0)
    else:
        base = np.array(_HOURLY[meter.shape])[hour]
        if meter.shape in ("industrial", "commercial") and day.weekday() == 6:
            base = base * 0.3
    return base * rng.uniform(0.85, 1.15, n)


def simulate_day(meter: SimMeter, day: date, seed: int = 0) -> SimDay:
    period = meter.interval_minutes
    n = 1440 // period
    rng = rng_for(meter.serial, day, seed)
    start = local_midnight(day)
    ends = start + np.arange(1, n + 1, dtype=np.int64) * period * 60
    shape = shape_profile(meter, day, n, rng)
    kwh = shape / shape.sum() * meter.daily_kwh if shape.sum() > 0 else shape
    present = np.ones(n, dtype=bool)
    events: list[tuple[int, int]] = []
    faults = set(meter.faults)
    if "zero_run" in faults:
        at = n // 2 - n // 8
        kwh[at : at + max(8, n // 8)] = 0.0
    if "spike" in faults:
        kwh[int(rng.integers(n // 4, n - n // 4))] *= 8.0
    if "tamper_magnet" in faults:
        at = int(rng.integers(n // 3, n // 2))
        events.append((201, int(ends[at])))
        kwh[at + 1 :] *= 0.15  # the magnet slows the meter: low consumption after the event
    if "power_failure" in faults:
        at = int(rng.integers(n // 6, n // 3))
        kwh[at : at + 4] = 0.0
        events.append((101, int(ends[at]) - period * 30))
        events.append((102, int(ends[at + 3])))
    if "gap" in faults:
        at = int(rng.integers(n // 2, n - 10))
        present[at : at + max(4, n // 24)] = False
    pf = rng.uniform(0.86, 0.98, n)
    kvah = kwh / pf
    kvarh = np.sqrt(np.maximum(kvah**2 - kwh**2, 0.0))
    hours = period / 60.0
    voltage = rng.normal(236.0, 4.0, (3, n))
    per_phase = 1 if meter.phases == 1 else 3
    current = (kwh / hours) * 1000.0 / (voltage * per_phase * pf)
    channels = {
        "kwh": np.round(kwh, 4),
        "kvah": np.round(kvah, 4),
        "kvarh_lag": np.round(kvarh * 0.92, 4),
        "kvarh_lead": np.round(kvarh * 0.08, 4),
        "voltage_r": np.round(voltage[0], 1),
        "current_r": np.round(current[0], 3),
    }
    if meter.phases == 3:
        channels |= {
            "voltage_y": np.round(voltage[1], 1),
            "voltage_b": np.round(voltage[2], 1),
            "current_y": np.round(current[1], 3),
            "current_b": np.round(current[2], 3),
        }
    days = (day - ANCHOR_DAY).days
    reg_kwh = round(meter.start_kwh + max(days, 0) * meter.daily_kwh, 3)
    reg_kvah = round(reg_kwh / 0.92, 3)
    peak = int(np.argmax(kwh))
    return SimDay(
        meter=meter,
        day=day,
        interval_minutes=period,
        local_ends=ends,
        present=present,
        channels=channels,
        register_start_kwh=reg_kwh,
        register_start_kvah=reg_kvah,
        register_end_kwh=round(reg_kwh + float(channels["kwh"].sum()), 3),
        register_end_kvah=round(reg_kvah + float(channels["kvah"].sum()), 3),
        md_kw=round(float(kwh[peak]) / hours, 3),
        md_local_at=int(ends[peak]),
        events=events,
    )


def local_iso(local_epochs: npt.NDArray[np.int64], offset: str = "+05:30") -> list[str]:
    """Local wall-clock epochs -> 'YYYY-MM-DDTHH:MM:SS+05:30' strings (vectorised)."""
    return [f"{text}{offset}" for text in local_epochs.astype("datetime64[s]").astype(str).tolist()]


def cdf_datetime(local_epoch: int) -> str:
    """Local wall-clock epoch -> 'dd-MM-yyyy HH:mm:ss' (the MIOS CDF format)."""
    text = str(np.datetime64(int(local_epoch), "s"))
    return f"{text[8:10]}-{text[5:7]}-{text[0:4]} {text[11:19]}"


def scalar_reads(meters: list[SimMeter], read_day: date, seed: int = 0) -> list[dict[str, object]]:
    """Monthly reads as the reading app sends them: mostly normal, some door locked or defective,
    a zero-consumption meter (stopped) for every 'zero_run' fault."""
    reads: list[dict[str, object]] = []
    for meter in meters:
        rng = rng_for(meter.serial, read_day, seed)
        days = (read_day - ANCHOR_DAY).days
        kwh = round(meter.start_kwh + max(days, 0) * meter.daily_kwh * float(rng.uniform(0.9, 1.1)), 1)
        roll = float(rng.random())
        read: dict[str, object] = {"meter": meter.serial, "read_at": f"{read_day.isoformat()}T11:30:00+05:30"}
        if "zero_run" in meter.faults:
            read |= {"status": "meter_stopped", "kwh": meter.start_kwh}
        elif roll < 0.06:
            read |= {"status": "door_locked"}
        elif roll < 0.08:
            read |= {"status": "meter_defective", "kwh": kwh}
        else:
            read |= {"status": "normal", "kwh": kwh}
        reads.append(read)
    return reads
