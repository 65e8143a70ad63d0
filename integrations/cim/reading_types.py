"""IEC 61968-9 ReadingType: the 18-field code decoded into our channel, interval and unit.

macroPeriod.aggregate.measuringPeriod.accumulation.flowDirection.commodity.measurementKind.
interharmonicNum.interharmonicDen.argumentNum.argumentDen.tou.cpp.consumptionTier.phases.
multiplier.unit.currency (REFERENCE §4). Only the combinations we store are decoded; anything
else is refused by name so the sender can see which reading type we do not take.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# measuringPeriod (TimeAttributeKind) -> minutes
MEASURING_PERIOD_MINUTES = {1: 10, 2: 15, 3: 1, 5: 30, 6: 5, 7: 60}
PERIOD_CODE = {minutes: code for code, minutes in MEASURING_PERIOD_MINUTES.items()}
# macroPeriod -> register kind: none (a snapshot), billingPeriod, daily, monthly
MACRO_REGISTER_KIND = {0: "instant", 8: "billing", 11: "daily", 13: "billing"}
REGISTER_MACRO = {"instant": 0, "billing": 8, "daily": 11}
# (flowDirection, unit) of energy -> channel. Units: 72 Wh, 61 VAh (and VA), 73 VArh, 38 W.
ENERGY = {
    (1, 72): "kwh",
    (19, 72): "kwh_export",
    (1, 61): "kvah",
    (19, 61): "kvah_export",
    (4, 73): "kvarh_lag",
    (5, 73): "kvarh_lead",
}
ENERGY_CODE = {channel: key for key, channel in ENERGY.items()}
# phases (PhaseCode): A/R 128 (AN 129), B/Y 64 (BN 65), C/B 32 (CN 33)
PHASE = {128: "r", 129: "r", 64: "y", 65: "y", 32: "b", 33: "b"}
PHASE_CODE = {"r": 128, "y": 64, "b": 32}
KIND_ENERGY, KIND_DEMAND, KIND_PF, KIND_VOLTAGE, KIND_CURRENT = 12, 8, 38, 54, 4
ACC_BULK, ACC_CUMULATIVE, ACC_DELTA, ACC_INSTANT = 1, 3, 4, 12


@dataclass(frozen=True)
class Decoded:
    """What a reading type means to us: an interval channel or a register channel."""

    target: str  # "interval" | "register"
    channel: str
    interval_minutes: int = 0
    register_kind: str = ""
    tod_zone: int = 0
    scale: float = 1.0  # multiply the sent value by this to get our unit (kWh, V, A, ...)


@lru_cache(maxsize=4096)
def decode(ref: str) -> Decoded | str:
    """A ReadingType mRID -> Decoded, or the reason it is refused."""
    parts = ref.strip().split(".")
    if len(parts) != 18:
        return f"reading type {ref!r} does not have 18 dot-separated fields"
    try:
        f = [int(p) for p in parts]
    except ValueError:
        return f"reading type {ref!r} has a non-numeric field"
    macro, _agg, measuring, accumulation, flow, _commodity, kind = f[0:7]
    tou, phases, multiplier, unit = f[11], f[14], f[15], f[16]
    energy_scale = 10.0 ** (multiplier - 3)  # to kilo-units
    if measuring in MEASURING_PERIOD_MINUTES and macro == 0:
        minutes = MEASURING_PERIOD_MINUTES[measuring]
        if kind == KIND_ENERGY and accumulation == ACC_DELTA and (flow, unit) in ENERGY:
            return Decoded("interval", ENERGY[(flow, unit)], minutes, scale=energy_scale)
        if kind == KIND_VOLTAGE and unit == 29 and phases in PHASE:
            return Decoded("interval", f"voltage_{PHASE[phases]}", minutes, scale=10.0**multiplier)
        if kind == KIND_CURRENT and unit == 5 and phases in PHASE:
            return Decoded("interval", f"current_{PHASE[phases]}", minutes, scale=10.0**multiplier)
    elif measuring == 0 and macro in MACRO_REGISTER_KIND and 0 <= tou <= 8:
        register_kind = MACRO_REGISTER_KIND[macro]
        if kind == KIND_ENERGY and accumulation in (ACC_BULK, ACC_CUMULATIVE) and (flow, unit) in ENERGY:
            return Decoded("register", ENERGY[(flow, unit)], 0, register_kind, tou, energy_scale)
        if kind == KIND_DEMAND and unit in (38, 61):
            channel = "md_kw" if unit == 38 else "md_kva"
            return Decoded("register", channel, 0, register_kind, tou, energy_scale)
        if kind == KIND_PF and unit == 0:
            return Decoded("register", "avg_pf", 0, register_kind, tou, 1.0)
    return f"unknown reading type {ref} (not a channel we store)"


def encode_interval(channel: str, minutes: int) -> str:
    """Our interval channel -> its ReadingType mRID (for the simulator and documentation)."""
    period = PERIOD_CODE[minutes]
    if channel in ENERGY_CODE:
        flow, unit = ENERGY_CODE[channel]
        return f"0.0.{period}.4.{flow}.1.12.0.0.0.0.0.0.0.0.3.{unit}.0"
    quantity, phase = channel.split("_")
    kind, unit = (KIND_VOLTAGE, 29) if quantity == "voltage" else (KIND_CURRENT, 5)
    return f"0.2.{period}.12.0.1.{kind}.0.0.0.0.0.0.0.{PHASE_CODE[phase]}.0.{unit}.0"


def encode_register(channel: str, register_kind: str, tod_zone: int = 0) -> str:
    macro = REGISTER_MACRO[register_kind]
    if channel in ENERGY_CODE:
        flow, unit = ENERGY_CODE[channel]
        return f"{macro}.0.0.3.{flow}.1.12.0.0.0.0.{tod_zone}.0.0.0.3.{unit}.0"
    if channel in ("md_kw", "md_kva"):
        unit = 38 if channel == "md_kw" else 61
        return f"{macro}.8.0.6.1.1.8.0.0.0.0.{tod_zone}.0.0.0.3.{unit}.0"
    if channel == "avg_pf":
        return f"{macro}.2.0.12.0.1.38.0.0.0.0.{tod_zone}.0.0.0.0.0.0"
    raise ValueError(f"no reading type for register channel {channel!r}")
