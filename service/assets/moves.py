"""Moving a meter asset to a new status: checked against the transition table, kept in history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.assets.lifecycle import IllegalTransition, check_transition
from service.assets.models import MeterAsset, MeterAssetStatus
from service.audit.log import Actor, record


def move(
    session: Session, meter_id: int, wanted: str, at: datetime, actor: Actor, reason: str = ""
) -> MeterAsset:
    """Set the asset's status (a new asset starts in store); raise IllegalTransition if refused."""
    asset = session.execute(
        select(MeterAsset).where(MeterAsset.meter_id == meter_id).with_for_update()
    ).scalar()
    if asset is None:
        if wanted != "in_store":
            raise IllegalTransition(f"a new asset starts in_store, not {wanted}")
        asset = MeterAsset(meter_id=meter_id, status=wanted)
        session.add(asset)
        before = None
    else:
        check_transition(asset.status, wanted)
        before = {"status": asset.status}
        asset.status = wanted
    asset.updated_at = at
    session.add(MeterAssetStatus(meter_id=meter_id, status=wanted, at=at, reason=reason))
    record(
        session, actor, "update", "meter_asset", str(meter_id), before, {"status": wanted, "reason": reason}
    )
    session.flush()
    return asset


def statuses(session: Session, meter_ids: list[int]) -> dict[int, str]:
    """Current asset status of each meter that is an asset."""
    rows = session.execute(
        select(MeterAsset.meter_id, MeterAsset.status).where(MeterAsset.meter_id.in_(meter_ids))
    )
    return {r.meter_id: r.status for r in rows}


def adopt_installed(session: Session, meter_id: int, since: datetime, actor: Actor) -> None:
    """A meter that hung on a wall before the asset repository existed becomes an installed asset
    (its master-data installation is the evidence), so a replacement can remove it."""
    if session.get(MeterAsset, meter_id) is not None:
        return
    session.add(MeterAsset(meter_id=meter_id, status="installed", updated_at=since))
    session.add(MeterAssetStatus(meter_id=meter_id, status="installed", at=since, reason="open installation"))
    record(
        session, actor, "create", "meter_asset", str(meter_id), None, {"status": "installed", "adopted": True}
    )
    session.flush()
