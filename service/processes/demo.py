"""Demo data: a few field inspections at different steps, so the work queue has real work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.log import Actor
from service.masterdata import Consumer
from service.orgs import OrgUnit
from service.processes.models import WorkItem
from service.processes.runtime import StartRequest, advance_instance, start_instance
from workflows.engine import CompleteUserTask

DEMO_ACTOR = Actor("cli", "demo-seed")
REASONS = ("suspected tampering", "zero consumption for 3 months", "meter burnt", "consumer complaint")


def seed_inspections(session: Session, context: Any, count: int = 8) -> int:
    """Start `count` inspections on consumers of the first DCs; advance some to review."""
    consumers = session.execute(
        select(Consumer.ivrs_number, Consumer.org_unit_id, OrgUnit.code)
        .join(OrgUnit, OrgUnit.id == Consumer.org_unit_id)
        .where(OrgUnit.level == "dc")
        .order_by(OrgUnit.path, Consumer.id)
        .limit(count)
    ).all()
    for n, (ivrs, org_unit_id, _code) in enumerate(consumers):
        instance = start_instance(
            session,
            StartRequest(
                "field_inspection",
                {
                    "request_id": f"INSP-DEMO-{n + 1:03d}",
                    "ivrs_number": ivrs,
                    "reason": REASONS[n % len(REASONS)],
                },
                f"INSP-DEMO-{n + 1:03d}",
                org_unit_id,
            ),
            DEMO_ACTOR,
        )
        if n % 3 == 2:  # some visits done already: they wait for the supervisor
            item = session.scalar(select(WorkItem).where(WorkItem.instance_id == instance.id))
            assert item is not None
            item.status, item.completed_by = "completed", "demo-seed"
            values = {"findings": "Seal intact; reading taken.", "meter_reading_kwh": 1200.0 + n,
                      "photo_reference": f"IMG-{n:04d}", "meter_accessible": True}  # fmt: skip
            item.result = values
            advance_instance(session, instance.id, CompleteUserTask(item.task_id, values), DEMO_ACTOR)
    if context is not None and hasattr(context, "notes"):
        context.notes.append(f"field inspections: {len(consumers)} started (work queue)")
    return len(consumers)
