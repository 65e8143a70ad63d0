"""Fixtures of the security tests: the readings tests' two-division org, meters and network."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert

from tests.processes.conftest import billing, discom, drain, processes_app
from tests.readings.conftest import meters, org
from tests.readings.test_adapters_amr_drop import drop, ht_meter

__all__ = ["billing", "discom", "drain", "drop", "grid", "ht_meter", "meters", "org", "processes_app"]


@pytest.fixture
def grid(session: Any, org: dict[str, int], meters: dict[str, int]) -> dict[str, int]:
    """The meters, plus feeder F-E and DTR D-E in the east division and F-W in the west."""
    from service.masterdata.models import Dtr, Feeder

    ids = dict(meters)
    for code, unit in (("F-E", "east"), ("F-W", "west")):
        ids[code] = session.execute(
            insert(Feeder)
            .values(code=code, name=code, voltage_kv=11, feeder_type="urban", org_unit_id=org[unit])
            .returning(Feeder.id)
        ).scalar_one()
    ids["D-E"] = session.execute(
        insert(Dtr)
        .values(code="D-E", name="D-E", capacity_kva=100, org_unit_id=org["east"])
        .returning(Dtr.id)
    ).scalar_one()
    session.commit()
    return ids
