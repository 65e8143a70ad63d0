"""Small helpers shared by the process tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.audit.log import Actor
from service.extensions import db
from service.processes.models import ProcessInstance, WorkItem
from service.processes.runtime import StartRequest, start_instance

TEST_ACTOR = Actor("cli", "test")


def start(
    process_id: str, data: dict[str, Any], org_unit_id: int | None = None, key: str | None = None
) -> int:
    instance = start_instance(db.session(), StartRequest(process_id, data, key, org_unit_id), TEST_ACTOR)
    db.session.commit()
    return int(instance.id)


def instance(instance_id: int) -> ProcessInstance:
    db.session.expire_all()
    found = db.session.get(ProcessInstance, instance_id)
    assert found is not None
    return found


def open_items(instance_id: int) -> list[WorkItem]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(WorkItem)
            .where(WorkItem.instance_id == instance_id, WorkItem.status == "open")
            .order_by(WorkItem.id)
        )
    )


def inspection_data(n: int = 1) -> dict[str, Any]:
    return {"request_id": f"INSP-{n:04d}", "ivrs_number": f"N{n:07d}", "reason": "zero consumption"}
