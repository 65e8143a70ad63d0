"""A small network: feeder OF1 with DTs OD1 (6 smart meters) and OD2 (4 smart meters); events
go in through the one ingest path (IS 15959 codes; CIM power down/up are stored as 101/102)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert, text

from integrations.canonical import CanonicalBatch, Events
from service.audit.log import Actor

ACTOR = Actor("system", "test-hes")
SINCE = datetime(2026, 1, 1, tzinfo=UTC)
NAT = np.datetime64("NaT", "s")


@dataclass
class Grid:
    meters: dict[str, int] = field(default_factory=dict)  # serial -> id
    consumers: dict[str, int] = field(default_factory=dict)  # ivrs -> id
    org: int = 0


@pytest.fixture
def grid(session: Any) -> Grid:
    from service.masterdata.demo import seed_masterdata
    from service.masterdata.models import (
        Consumer,
        ConsumerSupplyLink,
        Dtr,
        DtrFeederLink,
        Feeder,
        Installation,
        Meter,
    )

    seed_masterdata(session(), consumers=20, seed=7)
    g = Grid()
    org = dict(session.execute(text("SELECT code, id FROM org_units")).tuples().all())
    g.org = org["BPLC-D1"]

    def add(model: Any, **values: Any) -> int:
        return int(session.execute(insert(model).values(**values).returning(model.id)).scalar_one())

    feeder = add(Feeder, code="OF1", name="OF1", voltage_kv=11, feeder_type="urban", org_unit_id=g.org)
    for dt_code, n in (("OD1", 6), ("OD2", 4)):
        dt = add(Dtr, code=dt_code, name=dt_code, capacity_kva=100, org_unit_id=g.org)
        session.execute(insert(DtrFeederLink).values(dtr_id=dt, feeder_id=feeder, valid_from=SINCE))
        for i in range(1, n + 1):
            ivrs, serial = f"{dt_code}-C{i}", f"{dt_code}-M{i}"
            g.consumers[ivrs] = add(Consumer, ivrs_number=ivrs, name=ivrs, tariff_category="LV1",
                                    sanctioned_load=5, mobile=f"+9198{i:08d}", language="en", org_unit_id=g.org)  # fmt: skip
            session.execute(
                insert(ConsumerSupplyLink).values(consumer_id=g.consumers[ivrs], dtr_id=dt, valid_from=SINCE)
            )
            g.meters[serial] = add(
                Meter, serial_number=serial, make="HPL", meter_class="smart_1ph", org_unit_id=g.org
            )
            session.execute(insert(Installation).values(meter_id=g.meters[serial], consumer_id=g.consumers[ivrs],
                                                        installed_at=SINCE, initial_kwh=0))  # fmt: skip
    session.commit()
    return g


def events_batch(rows: list[tuple[str, int, str, str | None]]) -> CanonicalBatch:
    """(serial, code, occurred UTC ISO, restored UTC ISO or None)."""
    return CanonicalBatch(
        source="hes:TEST",
        events=Events(
            meter=np.array([r[0] for r in rows], dtype=object),
            code=np.array([r[1] for r in rows], dtype=np.int32),
            occurred_at=np.array([r[2] for r in rows], dtype="datetime64[s]"),
            restored_at=np.array([NAT if r[3] is None else np.datetime64(r[3], "s") for r in rows]),
            snapshot=[{} for _ in rows],
        ),
    )


@pytest.fixture
def ingest(session: Any) -> Callable[[list[tuple[str, int, str, str | None]]], Any]:
    from service.readings.ingest import ingest_batch

    def run(rows: list[tuple[str, int, str, str | None]]) -> Any:
        result = ingest_batch(session(), events_batch(rows), actor=ACTOR)
        session.commit()
        assert not result.rejects, result.rejects
        return result

    return run
