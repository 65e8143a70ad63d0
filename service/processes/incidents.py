"""An admin's answer to an incident: retry the step, or skip it and let the process go on."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.log import Actor, record
from service.outbox import outbox
from service.processes.models import Incident
from service.processes.runtime import ProcessConflict, advance_instance, lock_instance, record_event
from workflows.engine import RetryTask, SkipTask


def _open_incident(session: Session, incident_id: int) -> Incident:
    incident = session.scalar(select(Incident).where(Incident.id == incident_id).with_for_update())
    if incident is None:
        raise LookupError(f"no incident {incident_id}")
    if incident.status != "open":
        raise ProcessConflict("incident_closed", f"Incident {incident_id} is already {incident.status}.")
    return incident


def retry_incident(session: Session, incident_id: int, actor: Actor) -> Incident:
    incident = _open_incident(session, incident_id)
    instance = lock_instance(session, incident.instance_id)
    incident.status, incident.resolved_at, incident.resolved_by = "retried", datetime.now(UTC), actor.name
    if incident.kind == "service" and incident.outbox_item_id is not None:
        outbox.retry(session, incident.outbox_item_id)
        record_event(
            session, instance, "retried", actor, bpmn_id=incident.bpmn_id, operation=incident.operation
        )
        if not _others_open(session, instance.id, incident.id):
            instance.status, instance.error = "running", None
    else:
        record_event(session, instance, "retried", actor, bpmn_id=incident.bpmn_id)
        advance_instance(session, instance.id, RetryTask(incident.task_id), actor)
    record(
        session,
        actor,
        "retry",
        "process_incident",
        str(incident.id),
        {"status": "open"},
        {"status": "retried"},
    )
    return incident


def skip_incident(session: Session, incident_id: int, actor: Actor) -> Incident:
    incident = _open_incident(session, incident_id)
    instance = lock_instance(session, incident.instance_id)
    incident.status, incident.resolved_at, incident.resolved_by = "skipped", datetime.now(UTC), actor.name
    record_event(session, instance, "skipped", actor, bpmn_id=incident.bpmn_id, operation=incident.operation)
    advance_instance(session, instance.id, SkipTask(incident.task_id), actor)
    record(
        session,
        actor,
        "skip",
        "process_incident",
        str(incident.id),
        {"status": "open"},
        {"status": "skipped"},
    )
    return incident


def _others_open(session: Session, instance_id: int, incident_id: int) -> bool:
    return (
        session.scalar(
            select(Incident.id).where(
                Incident.instance_id == instance_id, Incident.status == "open", Incident.id != incident_id
            )
        )
        is not None
    )
