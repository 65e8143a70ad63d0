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
