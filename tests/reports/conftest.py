"""A crafted network on the demo discom's org tree, with readings through ingest and VEE.

Circle BPLC, division BPLC-D1: feeder RF1 (11 kV) with DTs RT1 and RT2 (RT2 moves to RF2 on
16 Oct 00:00 IST). Circle SHR, division SHR-D1: feeder RF2. Each DT has two smart consumers;
RT1 also an LT AMR consumer and a scalar consumer. October 2026 (31 days) is the period.
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

from integrations.canonical import CanonicalBatch, Intervals, NetworkEnergy
from rules.loader import RULES_DIR
from service.audit.log import Actor

ACTOR = Actor("system", "test-hes")
MONTH_START = np.datetime64("2026-09-30T18:30:00", "s")  # 1 Oct 2026 00:00 IST
DAYS = 31
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
MOVED_AT = datetime(2026, 10, 15, 18, 30, tzinfo=UTC)  # 16 Oct 00:00 IST
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 31)


@pytest.fixture(autouse=True)
def _rules_from_repository(app: Flask) -> None:
    from service.vee.rulebook import use_directory

    use_directory(app, RULES_DIR, reload_seconds=0)


def interval_ends(days: int = DAYS, first_day: int = 0) -> np.ndarray:
    start = MONTH_START + np.timedelta64(first_day, "D")
    return start + np.arange(1, days * 96 + 1) * np.timedelta64(15, "m")


def load_shape(seed: int, n: int, mean_kwh: float) -> np.ndarray:
    """Positive, varying 15-min energy (no static runs, no spikes): a daily curve with noise."""
    rng = np.random.default_rng(seed)
    hour = (np.arange(n) % 96) / 4
    curve = 1 + 0.4 * np.sin((hour - 6) / 24 * 2 * np.pi)
    return np.round(mean_kwh * curve * rng.uniform(0.9, 1.1, n), 4)


def intervals(meter: str, ends: np.ndarray, values: np.ndarray) -> CanonicalBatch:
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


def network(kind: str, code: str, ends: np.ndarray, values: np.ndarray) -> CanonicalBatch:
    n = len(values)
    return CanonicalBatch(
        source="scada:TEST",
        network=NetworkEnergy(
            kind=np.full(n, kind, dtype=object),
            code=np.full(n, code, dtype=object),
            channel=np.full(n, "kwh", dtype=object),
            interval_end=ends.astype("datetime64[s]"),
            value=values.astype(np.float64),
            interval_minutes=np.full(n, 15, dtype=np.int16),
        ),
    )


@dataclass
class Grid:
    ids: dict[str, int] = field(default_factory=dict)
    # consumer meter -> (DT code, values over the month)
    loads: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)


@pytest.fixture
def discom(session: Any) -> Any:
    from service.masterdata.demo import seed_masterdata, seed_users

    summary = seed_masterdata(session(), consumers=20, seed=7)
    seed_users(session(), summary)
    session.commit()
    return summary


@pytest.fixture
def grid(session: Any, discom: Any) -> Grid:
    from service.masterdata.models import (
        Consumer,
        ConsumerSupplyLink,
        Dtr,
        DtrFeederLink,
        Feeder,
        Installation,
        Meter,
    )

    g = Grid()
    org = dict(session.execute(text("SELECT code, id FROM org_units")).tuples().all())
    g.ids |= {"BPLC-D1": org["BPLC-D1"], "SHR-D1": org["SHR-D1"]}

    def add(model: Any, **values: Any) -> int:
        return int(session.execute(insert(model).values(**values).returning(model.id)).scalar_one())

    g.ids["RF1"] = add(Feeder, code="RF1", name="Feeder one", voltage_kv=11, feeder_type="urban",
                       org_unit_id=org["BPLC-D1"])  # fmt: skip
    g.ids["RF2"] = add(Feeder, code="RF2", name="Feeder two", voltage_kv=11, feeder_type="urban",
                       org_unit_id=org["SHR-D1"])  # fmt: skip
    for dt, feeder_org in (("RT1", "BPLC-D1"), ("RT2", "BPLC-D1"), ("RT3", "SHR-D1")):
        g.ids[dt] = add(Dtr, code=dt, name=dt, capacity_kva=100, org_unit_id=org[feeder_org])
    session.execute(
        insert(DtrFeederLink),
        [
            dict(dtr_id=g.ids["RT1"], feeder_id=g.ids["RF1"], valid_from=SINCE),
            dict(dtr_id=g.ids["RT2"], feeder_id=g.ids["RF1"], valid_from=SINCE, valid_to=MOVED_AT),
            dict(dtr_id=g.ids["RT2"], feeder_id=g.ids["RF2"], valid_from=MOVED_AT),
            dict(dtr_id=g.ids["RT3"], feeder_id=g.ids["RF2"], valid_from=SINCE),
        ],
    )
    people = [
        ("RC1", "RM1", "RT1", "smart_1ph", "BPLC-D1", 0.20),
        ("RC2", "RM2", "RT1", "smart_3ph", "BPLC-D1", 0.35),
        ("RC3", "RA3", "RT1", "lt_amr", "BPLC-D1", 0.50),
        ("RC4", "RM4", "RT2", "smart_1ph", "BPLC-D1", 0.15),
        ("RC5", "RM5", "RT2", "smart_1ph", "BPLC-D1", 0.25),
        ("RC6", "RM6", "RT3", "smart_1ph", "SHR-D1", 0.30),
        ("RC7", "RM7", "RT3", "smart_3ph", "SHR-D1", 0.40),
    ]
    for i, (ivrs, serial, dt, meter_class, unit, mean) in enumerate(people):
        cid = add(Consumer, ivrs_number=ivrs, name=ivrs, tariff_category="LV1", sanctioned_load=10,
                  org_unit_id=org[unit])  # fmt: skip
        mid = add(Meter, serial_number=serial, make="HPL", meter_class=meter_class, org_unit_id=org[unit])
        session.execute(
            insert(ConsumerSupplyLink).values(consumer_id=cid, dtr_id=g.ids[dt], valid_from=SINCE)
        )
        session.execute(
            insert(Installation).values(meter_id=mid, consumer_id=cid, installed_at=SINCE, initial_kwh=0)
        )
        g.ids[ivrs], g.ids[serial] = cid, mid
        g.loads[serial] = (dt, load_shape(100 + i, DAYS * 96, mean))
    # A scalar consumer on RT1, billed by billing (units come with the collection data).
    cid = add(Consumer, ivrs_number="RC8", name="RC8", tariff_category="LV1", sanctioned_load=3,
              org_unit_id=org["BPLC-D1"])  # fmt: skip
    mid = add(Meter, serial_number="RS8", make="HPL", meter_class="scalar", org_unit_id=org["BPLC-D1"])
    session.execute(insert(ConsumerSupplyLink).values(consumer_id=cid, dtr_id=g.ids["RT1"], valid_from=SINCE))
    session.execute(
        insert(Installation).values(meter_id=mid, consumer_id=cid, installed_at=SINCE, initial_kwh=0)
    )
    g.ids["RC8"], g.ids["RS8"] = cid, mid
    session.commit()
    return g


@pytest.fixture
def ingest_and_validate(session: Any, run_jobs: Callable[..., int]) -> Callable[[CanonicalBatch], Any]:
    """Ingest a batch, commit, and run its VEE job with a real worker (aggregates follow)."""
    from service.readings.ingest import ingest_batch

    def run(batch: CanonicalBatch) -> Any:
        result = ingest_batch(session(), batch, actor=ACTOR)
        session.commit()
        assert not result.rejects, result.rejects
        run_jobs("vee")
        return result

    return run


def sold_on(grid: Grid, feeder_dts: dict[str, tuple[int, int]]) -> float:
    """Energy of the consumer meters on DTs over local day ranges [first, last) of October."""
    total = 0.0
    for _serial, (dt, values) in grid.loads.items():
        if dt in feeder_dts:
            a, b = feeder_dts[dt]
            total += float(values[a * 96 : b * 96].sum())
    return total


@pytest.fixture
def loaded(grid: Grid, ingest_and_validate: Callable[[CanonicalBatch], Any]) -> Grid:
    """Every consumer meter's month, SCADA input for RF1 (8 % loss) every day and for RF2 with
    3 days missing, and a DT meter-less RT1 input by SCADA (5 % loss)."""
    ends = interval_ends()
    for serial, (_dt, values) in grid.loads.items():
        ingest_and_validate(intervals(serial, ends, values))
    rf1 = np.zeros(DAYS * 96)
    rt1 = np.zeros(DAYS * 96)
    for dt, values in grid.loads.values():
        if dt == "RT1":
            rf1 += values
            rt1 += values
        elif dt == "RT2":
            rf1[: 15 * 96] += values[: 15 * 96]
    ingest_and_validate(network("feeder", "RF1", ends, np.round(rf1 / 0.92, 6)))
    ingest_and_validate(network("dtr", "RT1", ends, np.round(rt1 / 0.95, 6)))
    keep = np.ones(DAYS * 96, dtype=bool)
    keep[20 * 96 : 23 * 96] = False  # 21-23 Oct missing
    rf2 = np.full(DAYS * 96, 2.0)
    ingest_and_validate(network("feeder", "RF2", ends[keep], rf2[keep]))
    return grid
