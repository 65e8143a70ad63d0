"""Demo readings written through the real adapters: CDF files for AMR meters, HES JSON and CIM
pushes for smart meters, monthly scalar reads, SCADA energy for feeders and DTRs.

Realistic shapes (domestic evening peak, agricultural rostered supply, industrial shifts) and
deliberate faults (gaps, spikes, zero runs, magnet-then-low-consumption, power failures) come
from `integrations.simulation`. The full demo gets FULL_DAYS days for every meter; a small one
(the 300-consumer test fixture, < SMALL_DEMO_CONSUMERS) one day for at most SMALL_PER_CLASS
meters of each class, so fixtures stay fast.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.amr.simulator import cdf_file
from integrations.billing.scalar_reads import parse_scalar_csv, scalar_reads_csv
from integrations.canonical import CanonicalBatch
from integrations.cim import simulator as cim_sim
from integrations.cim.end_device_events import parse_end_device_events
from integrations.cim.meter_readings import parse_meter_readings
from integrations.hes import simulator as hes_sim
from integrations.hes.json_push import parse_events, parse_readings
from integrations.scada.energy import parse_energy_json
from integrations.scada.simulator import energy_json
from integrations.simulation import SimDay, SimMeter, scalar_reads, simulate_day
from service.audit.log import Actor
from service.demo.seed import DemoContext
from service.masterdata import Consumer, Dtr, Feeder, Installation, Meter
from service.readings.amr_drop import ingest_cdf
from service.readings.ingest import ingest_batch

FULL_DAYS = 2
SMALL_DEMO_CONSUMERS = 1000
SMALL_PER_CLASS = 12
PUSH_METERS = 500
CIM_EVERY = 8  # one smart meter in eight of HES-B pushes IEC 61968-9 XML instead of JSON
DEMO_CHANNELS = ("kwh", "kvah", "voltage_r")
ACTOR = Actor("cli", "demo-seed")
SHAPE_BY_TARIFF = {
    "LV1": "domestic",
    "LV2": "commercial",
    "LV3": "commercial",
    "LV4": "industrial",
    "LV5": "agricultural",
}
KWH_PER_KW_DAY = {"domestic": 1.6, "commercial": 4.0, "industrial": 9.0, "agricultural": 7.0}
# Fault plan by position: every Nth meter of a class carries the fault.
FAULT_EVERY = {"gap": 17, "spike": 23, "zero_run": 29, "tamper_magnet": 31, "power_failure": 37}


def _faults(index: int) -> tuple[str, ...]:
    return tuple(fault for fault, every in FAULT_EVERY.items() if index % every == every - 1)


def _sim_meter(row: Any, index: int, period: int) -> SimMeter:
    tariff = row.tariff_category or "LV4"
    shape = SHAPE_BY_TARIFF.get(tariff, "industrial")
    load = float(row.sanctioned_load or 5)
    return SimMeter(
        serial=row.serial_number,
        shape=shape,
        interval_minutes=period,
        daily_kwh=round(load * KWH_PER_KW_DAY[shape], 2),
        phases=int(row.phase or 3),
        make=row.make,
        ct_ratio=row.ct_ratio,
        pt_ratio=row.pt_ratio,
        start_kwh=1000.0 + (index * 37) % 5000,
        faults=_faults(index),
    )


def _days(sim_meter: SimMeter, days: list[date], seed: int) -> list[SimDay]:
    out = []
    for day in days:
        sim = simulate_day(sim_meter, day, seed)
        sim.channels = {k: v for k, v in sim.channels.items() if k in DEMO_CHANNELS}
        out.append(sim)
    return out


def _store(session: Session, batch: CanonicalBatch, totals: dict[str, int]) -> None:
    result = ingest_batch(session, batch, actor=ACTOR)
    for key in ("stored", "quarantined"):
        totals[key] += getattr(result, key)
    totals["rejected"] += result.rejected


def seed_readings(session: Session, ctx: DemoContext) -> dict[str, int]:
    small = ctx.consumers < SMALL_DEMO_CONSUMERS
    today = (datetime.now(UTC) + timedelta(hours=5, minutes=30)).date()  # IST
    days = [today - timedelta(days=n) for n in range(1 if small else FULL_DAYS, 0, -1)]
    rows = session.execute(
        select(
            Meter.serial_number,
            Meter.meter_class,
            Meter.make,
            Meter.ct_ratio,
            Meter.pt_ratio,
            Meter.hes_code,
            Consumer.tariff_category,
            Consumer.sanctioned_load,
            Consumer.phase,
        )
        .join(Installation, Installation.meter_id == Meter.id)
        .outerjoin(Consumer, Consumer.id == Installation.consumer_id)
        .where(Installation.removed_at.is_(None))
        .order_by(Meter.serial_number)
    ).all()
    by_class: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_class[row.meter_class].append(row)
    if small:
        by_class = defaultdict(list, {k: v[:SMALL_PER_CLASS] for k, v in by_class.items()})
    totals = {"stored": 0, "quarantined": 0, "rejected": 0, "files": 0, "pushes": 0}

    # AMR meters: one CDF file per meter through the drop-folder code path (parse, nameplate, store).
    for index, row in enumerate(by_class["lt_amr"] + by_class["ht_amr"] + by_class["ltct"]):
        sims = _days(_sim_meter(row, index, 30 if row.meter_class == "ht_amr" else 15), days, ctx.seed)
        result = ingest_cdf(session, cdf_file(sims), f"{row.serial_number}_{days[-1]:%Y%m%d}.xml", ACTOR)
        totals["stored"] += result.stored
        totals["files"] += 1

    # Smart meters: HES JSON pushes, and IEC 61968-9 XML from part of HES-B.
    smart = by_class["smart_1ph"] + by_class["smart_3ph"] + by_class["net"]
    json_days: list[SimDay] = []
    cim_days: list[SimDay] = []
    for index, row in enumerate(smart):
        sims = _days(_sim_meter(row, index, 15), days, ctx.seed)
        (cim_days if row.hes_code == "HES-B" and index % CIM_EVERY == 0 else json_days).extend(sims)
    for start in range(0, len(json_days), PUSH_METERS):
        chunk = json_days[start : start + PUSH_METERS]
        message = hes_sim.readings_message(chunk, hes="HES-A", message_id=f"demo-hes-{start}")
        _store(session, parse_readings(hes_sim.encode(message)), totals)
        events = hes_sim.events_message(chunk, hes="HES-A", message_id=f"demo-hes-ev-{start}")
        if events["events"]:
            _store(session, parse_events(hes_sim.encode(events)), totals)
        totals["pushes"] += 1
    for start in range(0, len(cim_days), PUSH_METERS // 2):
        chunk = cim_days[start : start + PUSH_METERS // 2]
        _store(session, parse_meter_readings(cim_sim.meter_readings_message(chunk, source="HES-B")), totals)
        if any(sim.events for sim in chunk):
            _store(
                session,
                parse_end_device_events(cim_sim.end_device_events_message(chunk, source="HES-B")),
                totals,
            )
        totals["pushes"] += 1

    # Scalar meters: the month's reads from the reading app (CSV), with statuses.
    read_day = (
        today.replace(day=5) if today.day > 5 else (today.replace(day=1) - timedelta(days=1)).replace(day=5)
    )
    scalar = [_sim_meter(row, i, 30) for i, row in enumerate(by_class["scalar"])]
    if scalar:
        _store(
            session,
            parse_scalar_csv(
                scalar_reads_csv(scalar_reads(scalar, read_day, ctx.seed)), source="reading_app"
            ),
            totals,
        )

    # Feeders and DTRs: SCADA energy by network code.
    network: list[tuple[str, SimDay]] = []
    feeders = session.execute(select(Feeder.code, Feeder.feeder_type).order_by(Feeder.code)).all()
    dtrs = session.scalars(select(Dtr.code).order_by(Dtr.code)).all()
    if small:
        dtrs = dtrs[:SMALL_PER_CLASS]
    for code, feeder_type in feeders:
        shape = "agricultural" if feeder_type == "agricultural" else "feeder"
        meter = SimMeter(code, shape=shape, daily_kwh=40_000.0)
        network += [("feeder", simulate_day(meter, day, ctx.seed)) for day in days]
    for code in dtrs:
        network += [
            ("dtr", simulate_day(SimMeter(code, shape="dt", daily_kwh=900.0), day, ctx.seed)) for day in days
        ]
    if network:
        _store(session, parse_energy_json(energy_json(network, message_id="demo-scada")), totals)

    ctx.notes.append(
        f"readings: {totals['stored']} values stored through the adapters for {len(days)} day(s) "
        f"({totals['files']} CDF files, {totals['pushes']} HES/CIM pushes, scalar reads, SCADA energy); "
        f"{totals['rejected']} rows refused and reported"
    )
    return totals
