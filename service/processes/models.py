"""Tables of process instances, work items, timers, messages, incidents and webhook receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db

INSTANCE_STATUSES = ("running", "completed", "incident", "cancelled")
WORK_ITEM_STATUSES = ("open", "completed", "cancelled")
TIMER_STATUSES = ("pending", "fired", "cancelled")
MESSAGE_STATUSES = ("pending", "delivered")
INCIDENT_STATUSES = ("open", "retried", "skipped", "resolved")


class ProcessDefinitionVersion(db.Model):  # type: ignore[name-defined,misc]
    """The XML of every process version an instance started on (content-addressed)."""

    __tablename__ = "process_definitions"

    spec_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(300))
    xml: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProcessInstance(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "process_instances"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    spec_hash: Mapped[str] = mapped_column(String(64))
    business_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="running")
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    state: Mapped[str] = mapped_column(Text)  # SpiffWorkflow JSON without the spec
    # Optimistic locking: every advance increments it; a form posted on an older one is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    started_by: Mapped[str] = mapped_column(String(128), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(f"status IN {INSTANCE_STATUSES}", name="status"),
        Index(
            "uq_process_instances_business_key",
            "process_id",
            "business_key",
            unique=True,
            postgresql_where=text("business_key IS NOT NULL"),
        ),
    )


class WorkItem(db.Model):  # type: ignore[name-defined,misc]
    """A ready user task, for the people of its candidate group in its org unit."""

    __tablename__ = "work_items"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    process_id: Mapped[str] = mapped_column(String(100))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    candidate_group: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[int] = mapped_column(Integer, default=3)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    form_schema: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    business_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        CheckConstraint(f"status IN {WORK_ITEM_STATUSES}", name="status"),
        UniqueConstraint("instance_id", "task_id", name="uq_work_items_task"),
        Index("ix_work_items_queue", "status", "role", "due_at"),
    )


class ProcessTimer(db.Model):  # type: ignore[name-defined,misc]
    """A waiting timer event; swept periodically so none is lost when Redis is."""

    __tablename__ = "process_timers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    fire_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(f"status IN {TIMER_STATUSES}", name="status"),
        UniqueConstraint("instance_id", "task_id", name="uq_process_timers_task"),
        Index("ix_process_timers_due", "fire_at", postgresql_where=text("status = 'pending'")),
    )


class MessageWait(db.Model):  # type: ignore[name-defined,misc]
    """An instance waiting for a message with a correlation key."""

    __tablename__ = "process_message_waits"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    correlation_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        UniqueConstraint("instance_id", "task_id", name="uq_process_message_waits_task"),
        Index("ix_process_message_waits_key", "name", "correlation_key"),
    )


class ProcessMessage(db.Model):  # type: ignore[name-defined,misc]
    """A message received; kept until an instance waits for it (it may arrive first)."""

    __tablename__ = "process_messages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    correlation_key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The sender's org-unit scope (a scoped API key): only instances at or below it take it.
    sender_org_unit_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(f"status IN {MESSAGE_STATUSES}", name="status"),
        Index(
            "ix_process_messages_pending",
            "name",
            "correlation_key",
            postgresql_where=text("status = 'pending'"),
        ),
    )


class Incident(db.Model):  # type: ignore[name-defined,misc]
    """A step that failed for good (retries exhausted, script error): an admin retries or skips it."""

    __tablename__ = "process_incidents"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # service | script
    operation: Mapped[str | None] = mapped_column(String(64))
    outbox_item_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (CheckConstraint(f"status IN {INCIDENT_STATUSES}", name="status"),)


class ProcessEvent(db.Model):  # type: ignore[name-defined,misc]
    """The history of an instance, as shown on its pages."""

    __tablename__ = "process_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    kind: Mapped[str] = mapped_column(String(32))
    bpmn_id: Mapped[str] = mapped_column(String(100), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    actor: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class WebhookReceipt(db.Model):  # type: ignore[name-defined,misc]
    """The first answer to each idempotency key, returned again on a replay."""

    __tablename__ = "webhook_receipts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    system: Mapped[str] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    body_sha256: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(100))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("system", "idempotency_key", name="uq_webhook_receipts_key"),)


class SavedFilter(db.Model):  # type: ignore[name-defined,misc]
    """A work-queue filter a person saved under a name (the query string of the queue page)."""

    __tablename__ = "work_queue_filters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_work_queue_filters_name"),)
