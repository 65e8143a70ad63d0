"""Unmapped CIM event types: listed with counts, and reclassified once the mapping names them.

Events of a type `integrations/cim/event_types.csv` does not map are stored under a negative
code with the raw type in `snapshot.cim_type` (never dropped). When an analyst adds the type
to the mapping, `reclassify` moves those events to the IS 15959 code; it runs from the CLI,
the API, and a periodic task (which re-reads the file when it changed), so a saved mapping
takes effect without anyone asking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from integrations.cim.event_types import MAPPING_FILE, EventTypeMap, load_mapping
from service.audit.log import Actor, record
from service.auth.principal import Principal
from service.auth.scoping import scope_to_org
from service.config import Config
from service.masterdata import Meter
from service.readings.models import MeterEvent
from service.readings.quarantine import page_of

RECLASSIFY_ACTOR = Actor("system", "cim-event-types")

_MOVE = text(
    "WITH moved AS (DELETE FROM meter_events WHERE code = :old RETURNING *),"
    " ins AS (INSERT INTO meter_events (meter_id, code, occurred_at, restored_at, snapshot, source, batch_id)"
    " SELECT meter_id, :new, occurred_at, restored_at,"
    " (snapshot - 'unmapped') || jsonb_build_object('reclassified_from', :old), source, batch_id FROM moved"
    # The same occurrence already stored under the mapped code keeps the unmapped report inside.
    " ON CONFLICT (meter_id, code, occurred_at) DO UPDATE SET snapshot = meter_events.snapshot"
    " || jsonb_build_object('also_reported_as', EXCLUDED.snapshot) RETURNING 1)"
    " SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM ins)"
)


def event_type_mapping(config: Config) -> EventTypeMap:
    return load_mapping(Path(config.cim_event_types_file) if config.cim_event_types_file else MAPPING_FILE)


def reclassify(session: Session, mapping: EventTypeMap, actor: Actor = RECLASSIFY_ACTOR) -> dict[str, int]:
    """Move stored events of now-mapped types to their IS 15959 code (caller's transaction)."""
    pending = session.execute(
        select(MeterEvent.code, MeterEvent.snapshot["cim_type"].astext).where(MeterEvent.code < 0).distinct()
    ).all()
    types = events = 0
    for old_code, cim_type in pending:
        new_code = mapping.code_for(cim_type or "")
        if new_code is None:
            continue
        moved, _ = session.execute(_MOVE, {"old": old_code, "new": new_code}).one()
        types, events = types + 1, events + int(moved)
        record(
            session,
            actor,
            "reclassify",
            "cim_event_type",
            cim_type,
            {"code": old_code, "unmapped": True},
            {"code": new_code, "events": int(moved)},
        )
    return {"types": types, "events": events}


def unmapped_types(session: Session, principal: Principal, page: int, page_size: int) -> dict[str, Any]:
    """Unmapped types with their event counts, meters and first/last time, most frequent first."""
    cim_type = MeterEvent.snapshot["cim_type"].astext.label("cim_type")
    grouped = scope_to_org(
        select(
            cim_type,
            func.count().label("events"),
            func.count(MeterEvent.meter_id.distinct()).label("meters"),
            func.min(MeterEvent.occurred_at).label("first_at"),
            func.max(MeterEvent.occurred_at).label("last_at"),
        )
        .join(Meter, Meter.id == MeterEvent.meter_id)
        .where(MeterEvent.code < 0)
        .group_by(cim_type),
        Meter.org_unit_id,
        principal,
    ).subquery()
    total = session.scalar(select(func.count()).select_from(grouped)) or 0
    rows = session.execute(
        select(grouped)
        .order_by(grouped.c.events.desc(), grouped.c.cim_type)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return page_of(
        int(total),
        page,
        page_size,
        [
            {
                "cim_type": r.cim_type,
                "events": int(r.events),
                "meters": int(r.meters),
                "first_at": r.first_at,
                "last_at": r.last_at,
            }
            for r in rows
        ],
    )
