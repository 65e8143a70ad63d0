"""The asset reports through the registry on a crafted set: counts by make and status, warranty
ending in the month, failure rate by make/firmware/batch — each number worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import update

from service.auth.principal import Principal
from service.reports import registry, running
from tests.assets.conftest import ACTOR, Site

ALL = Principal("user", "analyst", None, role="analyst")
LATER = datetime(2026, 6, 1, tzinfo=UTC)


def _run(session: Any, name: str, **args: str) -> list[dict[str, Any]]:
    report = registry.get(name)
    assert report is not None
    resolved = running.resolve(session(), report, {"level": "division", **args}, ALL, date(2026, 12, 1))
    return running.page(session(), report, resolved, ALL, 1, 500)["items"]


@pytest.fixture
def assets(site: Site, session: Any) -> Site:
    """DIV1: Genus S1, S2 (installed, adopted), HPL N1, N2, N3, NI (in store / issued); N2 turned
    faulty and went back to the vendor; N3 faulty. Firmware 1.0 on N1, N2; 2.0 on N3. N1, N2 in
    batch B1, N3 in B2. Warranty: N1 ends 10 Jan 2027, N2 ends 31 Jan 2027, N3 ends 1 Feb 2027."""
    from service.assets.models import MeterAsset
    from service.assets.moves import adopt_installed, move
    from service.masterdata.models import Meter

    for serial in ("S1", "S2"):
        adopt_installed(session, site.ids[serial], LATER, ACTOR)
    move(session, site.ids["N2"], "faulty", LATER, ACTOR, "no display")
    move(session, site.ids["N2"], "returned_to_vendor", LATER, ACTOR, "warranty claim")
    move(session, site.ids["N3"], "faulty", LATER, ACTOR, "relay weld")
    for serial, firmware, batch, end in (("N1", "1.0", "B1", date(2027, 1, 10)), ("N2", "1.0", "B1", date(2027, 1, 31)),
                                         ("N3", "2.0", "B2", date(2027, 2, 1))):  # fmt: skip
        session.execute(
            update(Meter).where(Meter.id == site.ids[serial]).values(firmware=firmware, warranty_end=end)
        )
        session.execute(update(MeterAsset).where(MeterAsset.meter_id == site.ids[serial]).values(batch=batch))
    session.commit()
    return site


def test_meters_by_make_and_status(session: Any, assets: Site) -> None:
    rows = _run(session, "meters_by_make_status")
    got = [(r["org_unit"], r["make"], r["assets"], r["in_store"], r["issued"], r["installed"], r["faulty"],
            r["returned_to_vendor"]) for r in rows]  # fmt: skip
    # S1, S2 Genus installed; HPL: N1 + SM1 in store, NI issued, N3 faulty, N2 returned.
    assert got == [("DIV1", "Genus", 2, 0, 0, 2, 0, 0), ("DIV1", "HPL", 5, 2, 1, 0, 1, 1)]


def test_warranty_expiring_in_the_month(session: Any, assets: Site) -> None:
    rows = _run(session, "warranty_expiring", period="2027-01")
    assert [(r["make"], r["expiring"], r["installed"], r["first_end"], r["last_end"]) for r in rows] == [
        ("HPL", 2, 0, date(2027, 1, 10), date(2027, 1, 31))
    ]
    assert [r["expiring"] for r in _run(session, "warranty_expiring", period="2027-02")] == [1]


def test_failure_rate_by_make_firmware_and_batch(session: Any, assets: Site) -> None:
    rows = _run(session, "meter_failure_rate")
    got = {
        (r["make"], r["firmware"], r["batch"]): (r["assets"], r["failed"], round(r["failure_rate"], 2))
        for r in rows
    }
    assert got[("HPL", "1.0", "B1")] == (2, 1, 50.0)  # N2 failed, N1 did not
    assert got[("HPL", "2.0", "B2")] == (1, 1, 100.0)
    assert got[("Genus", "", "")] == (2, 0, 0.0)
    assert got[("HPL", "", "")] == (2, 0, 0.0)  # NI and SM1: no firmware or batch recorded
