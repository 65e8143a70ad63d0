"""Asset status moves on real PostgreSQL: history kept, illegal moves refused and nothing changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from service.assets.lifecycle import IllegalTransition
from service.assets.models import MeterAsset, MeterAssetStatus
from service.assets.moves import move
from service.audit.log import Actor
from service.masterdata.models import Meter, OrgUnit

AT = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
ACTOR = Actor("cli", "test")


def _meter(session: Any) -> int:
    org = OrgUnit(code="D", name="Discom", level="discom", path="/D/")
    session.add(org)
    session.flush()
    meter = Meter(serial_number="GP-1", make="Genus Power", meter_class="scalar", org_unit_id=org.id)
    session.add(meter)
    session.flush()
    return int(meter.id)


def test_installed_asset_refused_back_to_store_and_history_kept(session: Any) -> None:
    meter_id = _meter(session)
    for status in ("in_store", "issued", "installed"):
        move(session, meter_id, status, AT, ACTOR)
    session.commit()
    with pytest.raises(IllegalTransition, match="a meter installed cannot become in_store"):
        move(session, meter_id, "in_store", AT, ACTOR)
    session.rollback()
    assert session.get(MeterAsset, meter_id).status == "installed"
    history = session.scalars(
        select(MeterAssetStatus.status)
        .where(MeterAssetStatus.meter_id == meter_id)
        .order_by(MeterAssetStatus.id)
    ).all()
    assert history == ["in_store", "issued", "installed"]


def test_new_asset_must_start_in_store(session: Any) -> None:
    meter_id = _meter(session)
    with pytest.raises(IllegalTransition, match="a new asset starts in_store, not installed"):
        move(session, meter_id, "installed", AT, ACTOR)
