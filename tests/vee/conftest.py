"""Fixtures of the VEE service tests: a consumer with a smart meter on an urban feeder, batches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from flask import Flask
from sqlalchemy import insert, text

from integrations.billing.client import BillingClient
from integrations.billing.simulator import BillingSimulator
from integrations.canonical import CanonicalBatch, Intervals, Registers
from rules.loader import RULES_DIR
from service.audit.log import Actor
from service.ports import KEY as ADAPTERS
from service.ports import adapters_of
from tests.browser.conftest import browser, live_server, page  # noqa: F401  (the meter page browser tests)

ACTOR = Actor("system", "test-hes")
# 2026-10-05 00:00 IST: the first interval of the local day ends at 18:45 UTC on the 4th.
DAY_START = np.datetime64("2026-10-04T18:30:00", "s")
DAY_START_DT = datetime(2026, 10, 4, 18, 30, tzinfo=UTC)
BILLING_SECRET = "vee-billing-secret"


@pytest.fixture(autouse=True)
def _rules_from_repository(app: Flask) -> None:
    """The repository's rule files, re-checked on every use (no reload throttle in tests)."""
    from service.vee.rulebook import use_directory

    use_directory(app, RULES_DIR, reload_seconds=0)


def at(interval: int) -> np.datetime64:
    """End of interval n (1..96) of the test day."""
    return DAY_START + np.timedelta64(15 * interval, "m")


def utc(interval: int) -> datetime:
    return datetime.fromisoformat(str(at(interval)) + "+00:00")


def profile(values: dict[int, float] | None = None, skip: tuple[int, ...] = ()) -> list[tuple[int, float]]:
    """A day of 0.25 kWh intervals with the given overrides and missing intervals."""
    values = values or {}
    return [(i, values.get(i, 0.25 + 0.01 * (i % 5))) for i in range(1, 97) if i not in skip]


def intervals_batch(meter: str, rows: list[tuple[int, float]], channel: str = "kwh") -> CanonicalBatch:
    return CanonicalBatch(
        source="hes:TEST",
        intervals=Intervals(
            meter=np.full(len(rows), meter, dtype=object),
            channel=np.full(len(rows), channel, dtype=object),
            interval_end=np.array([at(i) for i, _ in rows], dtype="datetime64[s]"),
            value=np.array([v for _, v in rows], dtype=np.float64),
            interval_minutes=np.full(len(rows), 15, dtype=np.int16),
        ),
    )


def registers_batch(rows: list[tuple[str, str, str, np.datetime64, float, str | None]]) -> CanonicalBatch:
    """rows: (meter, kind, channel, read_at, value, reading_status)."""
    n = len(rows)
    return CanonicalBatch(
        source="billing-scalar",
        registers=Registers(
            meter=np.array([r[0] for r in rows], dtype=object),
            kind=np.array([r[1] for r in rows], dtype=object),
            channel=np.array([r[2] for r in rows], dtype=object),
            tod_zone=np.zeros(n, dtype=np.int16),
            read_at=np.array([r[3] for r in rows], dtype="datetime64[s]"),
            value=np.array([r[4] for r in rows], dtype=np.float64),
            occurred_at=np.full(n, np.datetime64("NaT"), dtype="datetime64[s]"),
            reading_status=np.array([r[5] for r in rows], dtype=object),
        ),
    )


@pytest.fixture
def ingest(session: Any) -> Callable[[CanonicalBatch], Any]:
    from service.readings.ingest import ingest_batch

    def run(batch: CanonicalBatch) -> Any:
        result = ingest_batch(session(), batch, actor=ACTOR)
        session.commit()
        assert not result.rejects, result.rejects
        return result

    return run


@pytest.fixture
def discom(session: Any) -> Any:
    """The demo discom's master data and users only (no other area's demo data)."""
    from service.masterdata.demo import seed_masterdata, seed_users

    summary = seed_masterdata(session(), consumers=40, seed=7)
    seed_users(session(), summary)
    session.commit()
    return summary


@pytest.fixture
def network(session: Any, discom: Any) -> dict[str, int]:
    """On the demo discom: consumer VC1 (LV1, 5 kW) with smart meter VM1 in division BPLC-D1,
    on an urban feeder; consumer VC2 with a meter VOLD replaced by VNEW on 2026-10-16; scalar
    consumer VC3 with meter VS1."""
    from service.masterdata.models import (
        Consumer,
        ConsumerSupplyLink,
        Dtr,
        DtrFeederLink,
        Feeder,
        Installation,
        Meter,
        OrgUnit,
    )

    org = session.execute(text("SELECT id FROM org_units WHERE code = 'BPLC-D1'")).scalar_one()
    del OrgUnit
    since = datetime(2026, 1, 1, tzinfo=UTC)
    feeder = session.execute(
        insert(Feeder)
        .values(code="VF1", name="VF1", voltage_kv=11, feeder_type="urban", org_unit_id=org)
        .returning(Feeder.id)
    ).scalar_one()
    dtr = session.execute(
        insert(Dtr).values(code="VD1", name="VD1", capacity_kva=100, org_unit_id=org).returning(Dtr.id)
    ).scalar_one()
    session.execute(insert(DtrFeederLink).values(dtr_id=dtr, feeder_id=feeder, valid_from=since))

    def consumer(ivrs: str, tariff: str = "LV1") -> int:
        cid = session.execute(
            insert(Consumer)
            .values(ivrs_number=ivrs, name=ivrs, tariff_category=tariff, sanctioned_load=5, org_unit_id=org)
            .returning(Consumer.id)
        ).scalar_one()
        session.execute(insert(ConsumerSupplyLink).values(consumer_id=cid, dtr_id=dtr, valid_from=since))
        return int(cid)

    def meter(serial: str, meter_class: str = "smart_1ph", mf: float = 1) -> int:
        return int(
            session.execute(
                insert(Meter)
                .values(
                    serial_number=serial,
                    make="HPL",
                    meter_class=meter_class,
                    multiplying_factor=mf,
                    org_unit_id=org,
                )
                .returning(Meter.id)
            ).scalar_one()
        )

    ids = {"org": org, "VC1": consumer("VC1"), "VC2": consumer("VC2"), "VC3": consumer("VC3")}
    ids |= {
        "VM1": meter("VM1"),
        "VOLD": meter("VOLD"),
        "VNEW": meter("VNEW", mf=2),
        "VS1": meter("VS1", "scalar"),
    }
    replaced = datetime(2026, 10, 15, 18, 30, tzinfo=UTC)  # 16 Oct 00:00 IST
    session.execute(
        insert(Installation),
        [
            dict(meter_id=ids["VM1"], consumer_id=ids["VC1"], installed_at=since, initial_kwh=0),
            dict(
                meter_id=ids["VOLD"],
                consumer_id=ids["VC2"],
                installed_at=since,
                removed_at=replaced,
                initial_kwh=0,
                final_kwh=1150,
                final_kvah=1270,
            ),
            dict(
                meter_id=ids["VNEW"],
                consumer_id=ids["VC2"],
                installed_at=replaced,
                initial_kwh=0,
                initial_kvah=0,
            ),
            dict(meter_id=ids["VS1"], consumer_id=ids["VC3"], installed_at=since, initial_kwh=0),
        ],
    )
    session.commit()
    return ids


@pytest.fixture
def billing(app: Flask) -> Iterator[BillingSimulator]:
    previous = adapters_of(app)
    with BillingSimulator(BILLING_SECRET) as simulator:
        app.extensions[ADAPTERS] = replace(
            previous, billing=BillingClient(simulator.url, BILLING_SECRET, timeout_seconds=5)
        )
        yield simulator
    app.extensions[ADAPTERS] = previous


def readings(session: Any, meter_id: int, channel: str = "kwh") -> dict[int, tuple[float, str]]:
    """interval number -> (value, quality) of the test day."""
    rows = session.execute(
        text(
            "SELECT interval_end, value, quality FROM interval_readings WHERE meter_id = :m AND channel = :c"
            " AND interval_end > :a AND interval_end <= :a + interval '1 day' ORDER BY interval_end"
        ),
        {"m": meter_id, "c": channel, "a": DAY_START_DT},
    ).all()
    return {int((r.interval_end - DAY_START_DT).total_seconds() // 900): (r.value, r.quality) for r in rows}


def failures(session: Any, meter_id: int | None = None) -> list[tuple[str, datetime, float | None]]:
    rows = session.execute(
        text(
            "SELECT rule_id, ts, value_seen FROM vee_failures WHERE (:m IS NULL OR meter_id = :m) ORDER BY rule_id, ts"
        ),
        {"m": meter_id},
    ).all()
    return [tuple(r) for r in rows]
