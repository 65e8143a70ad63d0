"""Consumers on the demo org tree with readings through ingest and VEE (aggregates follow).

RC1 (smart) had meter RA until 17 Nov 2026 14:00 IST, then RB; RC2 (smart, meter RX) is
another consumer on the same DT; RC3 is a scalar consumer whose meter RS1 was replaced by RS2
on 20 Aug 2026. "Today" is 20 Nov 2026 (a Friday).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import insert, text

from integrations.canonical import CanonicalBatch, Intervals, Registers
from rules.loader import RULES_DIR
from service.audit.log import Actor

ACTOR = Actor("system", "test-hes")
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
TODAY = date(2026, 11, 20)
DATA_START = np.datetime64("2026-11-09T18:30:00", "s")  # 10 Nov 00:00 IST
DATA_END = np.datetime64("2026-11-20T18:30:00", "s")  # 21 Nov 00:00 IST
REPLACED_AT = datetime(2026, 11, 17, 8, 30, tzinfo=UTC)  # 17 Nov 14:00 IST
SCALAR_REPLACED_AT = datetime(2026, 8, 20, 6, 30, tzinfo=UTC)
# (meter, read time UTC, reading kWh): monthly reads on the 5th, 12:00 IST
SCALAR_READS = [
    ("RS1", "2026-06-05T06:30:00", 1000.0),
    ("RS1", "2026-07-05T06:30:00", 1100.0),
    ("RS1", "2026-08-05T06:30:00", 1250.0),
    ("RS2", "2026-09-05T06:30:00", 85.0),
    ("RS2", "2026-10-05T06:30:00", 205.0),
    ("RS2", "2026-11-05T06:30:00", 300.0),
]
SCALAR_FINAL, SCALAR_INITIAL = 1300, 5


@pytest.fixture(autouse=True)
def _rules_from_repository(app: Flask) -> None:
    from service.vee.rulebook import use_directory

    use_directory(app, RULES_DIR, reload_seconds=0)


def load_shape(seed: int, n: int, mean_kwh: float) -> np.ndarray:
    """Positive, varying 15-min energy (no static runs, no spikes): a daily curve with noise."""
    rng = np.random.default_rng(seed)
    hour = (np.arange(n) % 96) / 4
    curve = 1 + 0.4 * np.sin((hour - 6) / 24 * 2 * np.pi)
    return np.round(mean_kwh * curve * rng.uniform(0.9, 1.1, n), 4)


def interval_batch(meter: str, ends: np.ndarray, values: np.ndarray) -> CanonicalBatch:
    n = len(values)
    return CanonicalBatch(
        source="hes:TEST",
        intervals=Intervals(
            meter=np.full(n, meter, dtype=object),
            channel=np.full(n, "kwh", dtype=object),
            interval_end=ends.astype("datetime64[s]"),
            value=values.astype(np.float64),
            interval_minutes=np.full(n, 15, dtype=np.int16),
        ),
    )


def scalar_batch(reads: list[tuple[str, str, float]]) -> CanonicalBatch:
    n = len(reads)
    return CanonicalBatch(
        source="billing:TEST",
        registers=Registers(
            meter=np.array([r[0] for r in reads], dtype=object),
            kind=np.full(n, "scalar", dtype=object),
            channel=np.full(n, "kwh", dtype=object),
            tod_zone=np.zeros(n, dtype=np.int16),
            read_at=np.array([r[1] for r in reads], dtype="datetime64[s]"),
            value=np.array([r[2] for r in reads], dtype=np.float64),
            occurred_at=np.full(n, np.datetime64("NaT"), dtype="datetime64[s]"),
            reading_status=np.full(n, "normal", dtype=object),
        ),
    )


@dataclass
class Consumers:
    ids: dict[str, int] = field(default_factory=dict)
    # meter -> (interval ends, values) as ingested
    series: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def expected_day_kwh(self, meters: list[str], day: date) -> float:
        """Sum of the ingested intervals ending inside local `day` (an interval's end is its ts)."""
        start = np.datetime64(datetime(day.year, day.month, day.day).isoformat(), "s") - np.timedelta64(
            330, "m"
        )
        end = start + np.timedelta64(1, "D")
        total = 0.0
        for meter in meters:
            ends, values = self.series[meter]
            total += float(values[(ends > start) & (ends <= end)].sum())
        return total


@pytest.fixture
def discom(session: Any) -> Any:
    from service.masterdata.demo import seed_masterdata, seed_users

    summary = seed_masterdata(session(), consumers=20, seed=7)
    seed_users(session(), summary)
    session.commit()
    return summary


@pytest.fixture
def people(session: Any, discom: Any) -> Consumers:
    from service.masterdata.models import Consumer, ConsumerSupplyLink, Dtr, Installation, Meter

    c = Consumers()
    org = dict(session.execute(text("SELECT code, id FROM org_units")).tuples().all())
    unit = org["BPLC-D1"]

    def add(model: Any, **values: Any) -> int:
        return int(session.execute(insert(model).values(**values).returning(model.id)).scalar_one())

    dt = add(Dtr, code="CT1", name="CT1", capacity_kva=100, org_unit_id=unit)
    for ivrs, mobile in (("RC1", "+919800000001"), ("RC2", "+919800000002"), ("RC3", "+919800000003")):
        c.ids[ivrs] = add(Consumer, ivrs_number=ivrs, name=f"Consumer {ivrs}", tariff_category="LV1",
                          sanctioned_load=5, mobile=mobile, language="en", org_unit_id=unit)  # fmt: skip
        session.execute(
            insert(ConsumerSupplyLink).values(consumer_id=c.ids[ivrs], dtr_id=dt, valid_from=SINCE)
        )
    for serial, meter_class in (("RA", "smart_1ph"), ("RB", "smart_1ph"), ("RX", "smart_1ph"),
                                ("RS1", "scalar"), ("RS2", "scalar")):  # fmt: skip
        c.ids[serial] = add(
            Meter, serial_number=serial, make="HPL", meter_class=meter_class, org_unit_id=unit
        )
    installations = [
        dict(meter_id=c.ids["RA"], consumer_id=c.ids["RC1"], installed_at=SINCE, removed_at=REPLACED_AT,
             initial_kwh=0, final_kwh=4321),
        dict(meter_id=c.ids["RB"], consumer_id=c.ids["RC1"], installed_at=REPLACED_AT, initial_kwh=0),
        dict(meter_id=c.ids["RX"], consumer_id=c.ids["RC2"], installed_at=SINCE, initial_kwh=0),
        dict(meter_id=c.ids["RS1"], consumer_id=c.ids["RC3"], installed_at=SINCE,
             removed_at=SCALAR_REPLACED_AT, initial_kwh=0, final_kwh=SCALAR_FINAL),
        dict(meter_id=c.ids["RS2"], consumer_id=c.ids["RC3"], installed_at=SCALAR_REPLACED_AT,
             initial_kwh=SCALAR_INITIAL),
    ]  # fmt: skip
    session.execute(insert(Installation), installations)
    session.commit()
    return c


@pytest.fixture
def ingest_and_validate(session: Any, run_jobs: Callable[..., int]) -> Callable[[CanonicalBatch], Any]:
    from service.readings.ingest import ingest_batch

    def run(batch: CanonicalBatch) -> Any:
        result = ingest_batch(session(), batch, actor=ACTOR)
        session.commit()
        assert not result.rejects, result.rejects
        run_jobs("vee")
        return result

    return run


@pytest.fixture
def loaded(people: Consumers, ingest_and_validate: Callable[[CanonicalBatch], Any]) -> Consumers:
    """RA up to the replacement, RB after it, RX throughout; RS1/RS2's monthly reads."""
    ends = DATA_START + np.arange(
        1, int((DATA_END - DATA_START) / np.timedelta64(15, "m")) + 1
    ) * np.timedelta64(15, "m")
    cut = np.datetime64(REPLACED_AT.replace(tzinfo=None).isoformat(), "s")
    for serial, mask, seed, mean in (
        ("RA", ends <= cut, 1, 0.2),
        ("RB", ends > cut, 2, 0.3),
        ("RX", ends > DATA_START, 3, 0.5),
    ):
        people.series[serial] = (ends[mask], load_shape(seed, int(mask.sum()), mean))
        ingest_and_validate(interval_batch(serial, *people.series[serial]))
    ingest_and_validate(scalar_batch(SCALAR_READS))
    return people
