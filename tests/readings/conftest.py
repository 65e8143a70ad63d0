"""Fixtures of the measurement-store tests: a small org with meters, and batch builders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import insert

from integrations.canonical import CanonicalBatch, Intervals
from service.audit.log import Actor

ACTOR = Actor("system", "test-hes")
DAY = np.datetime64("2026-10-05T00:00:00", "s")  # a past day, UTC


def add_meter(session: Any, serial: str, org_unit_id: int) -> int:
    from service.masterdata.models import Meter

    return session.execute(
        insert(Meter)
        .values(serial_number=serial, make="HPL", meter_class="smart_1ph", org_unit_id=org_unit_id)
        .returning(Meter.id)
    ).scalar_one()


def add_ht_amr_meter(session: Any, org_unit_id: int, serial: str = "M00000101") -> int:
    """The HT AMR meter of the CDF sample files, with the CT/PT ratios their nameplate gives."""
    from service.masterdata.models import Meter

    return int(
        session.execute(
            insert(Meter)
            .values(
                serial_number=serial,
                make="Secure Meters",
                meter_class="ht_amr",
                ct_ratio="100/5",
                pt_ratio="11000/110",
                org_unit_id=org_unit_id,
            )
            .returning(Meter.id)
        ).scalar_one()
    )


@pytest.fixture
def org(session: Any) -> dict[str, int]:
    """Discom > division East (D1) and division West (D2); ids by name."""
    from service.masterdata.models import OrgUnit

    def unit(code: str, level: str, parent: int | None, path: str) -> int:
        return session.execute(
            insert(OrgUnit)
            .values(code=code, name=code, level=level, parent_id=parent, path=path)
            .returning(OrgUnit.id)
        ).scalar_one()

    discom = unit("T", "discom", None, "/T/")
    east = unit("T-D1", "division", discom, "/T/T-D1/")
    west = unit("T-D2", "division", discom, "/T/T-D2/")
    session.commit()
    return {"discom": discom, "east": east, "west": west}


@pytest.fixture
def meters(session: Any, org: dict[str, int]) -> dict[str, int]:
    """Meters M1, M2 in the east division, M3 in the west; serial -> id."""
    ids = {
        "M1": add_meter(session, "M1", org["east"]),
        "M2": add_meter(session, "M2", org["east"]),
        "M3": add_meter(session, "M3", org["west"]),
    }
    session.commit()
    return ids


def intervals_batch(
    rows: list[tuple[str, str, str | np.datetime64, float]],
    minutes: int = 15,
    source: str = "hes:TEST",
    message_id: str | None = None,
) -> CanonicalBatch:
    """rows: (meter, channel, interval end as UTC ISO, value)."""
    return CanonicalBatch(
        source=source,
        message_id=message_id,
        intervals=Intervals(
            meter=np.array([r[0] for r in rows], dtype=object),
            channel=np.array([r[1] for r in rows], dtype=object),
            interval_end=np.array([r[2] for r in rows], dtype="datetime64[s]"),
            value=np.array([r[3] for r in rows], dtype=np.float64),
            interval_minutes=np.full(len(rows), minutes, dtype=np.int16),
        ),
    )


def day_of(meter: str, values: list[float], channel: str = "kwh", start: np.datetime64 = DAY) -> list[Any]:
    """Consecutive 15-min intervals ending at start+15min, start+30min, ..."""
    return [(meter, channel, start + np.timedelta64(15 * (i + 1), "m"), v) for i, v in enumerate(values)]


@pytest.fixture
def ingest(session: Any) -> Callable[[CanonicalBatch], Any]:
    """Ingest a batch and commit, as an entry point would."""
    from service.readings.ingest import ingest_batch

    def run(batch: CanonicalBatch) -> Any:
        result = ingest_batch(session(), batch, actor=ACTOR)
        session.commit()
        return result

    return run


def stored_intervals(session: Any, meter_id: int) -> list[tuple[str, datetime, float, str]]:
    from sqlalchemy import text

    return [
        tuple(r)
        for r in session.execute(
            text(
                "SELECT channel, interval_end, value, quality FROM interval_readings"
                " WHERE meter_id = :m ORDER BY channel, interval_end"
            ),
            {"m": meter_id},
        )
    ]
