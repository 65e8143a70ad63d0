"""Recording a scalar -> scalar meter replacement reported by billing or URJAS: load the facts,
check them (`replacement_checks`), then move both assets, switch the installation at the
replacement instant and store the final read through the one ingest path, in the caller's
transaction. A refused replacement stores nothing; a re-sent one changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.canonical import CanonicalBatch, Registers
from service.aggregates import local_days_of, refresh
from service.assets.models import MeterReplacement
from service.assets.moves import adopt_installed, move, statuses
from service.assets.replacement_checks import Refusal, check_replacement
from service.audit.log import Actor, record
from service.masterdata.installation_switch import (
    OpenInstallation,
    consumer_id_by_ivrs,
    meters_by_serial,
    open_installation,
    switch_installation,
)
from service.readings.ingest import ingest_batch
from service.readings.totals import last_total_kwh_read

# The scalar reads that follow a replacement are monthly: their consumption is refreshed this far.
FOLLOWING_READS = timedelta(days=62)


@dataclass(frozen=True)
class ReplacementReport:
    ivrs_number: str
    old_meter_serial: str
    new_meter_serial: str
    replaced_at: datetime  # aware
    final_kwh: Decimal
    initial_kwh: Decimal
    photo_ref: str | None = None


@dataclass
class Outcome:
    replacement_id: int | None = None
    duplicate: bool = False
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals


def _refused(*refusals: Refusal) -> Outcome:
    return Outcome(refusals=list(refusals))


def record_scalar_replacement(
    session: Session,
    report: ReplacementReport,
    actor: Actor,
    now: datetime,
    visible_orgs: set[int] | None = None,
) -> Outcome:
    """Check and apply one replacement; the refusals name the field. Never commits.
    `visible_orgs`: the sender's org units (None: the whole discom); others' consumers are unknown."""
    consumer = consumer_id_by_ivrs(session, [report.ivrs_number]).get(report.ivrs_number)
    if consumer is None or (visible_orgs is not None and consumer[1] not in visible_orgs):
        return _refused(Refusal("ivrs_number", "unknown_consumer", "no consumer has this IVRS number"))
    meters = meters_by_serial(session, [report.old_meter_serial, report.new_meter_serial])
    old, new = meters.get(report.old_meter_serial), meters.get(report.new_meter_serial)
    if old is None:
        return _refused(Refusal("old_meter_serial", "unknown_meter", "no meter has this serial"))
    if new is None:
        return _refused(Refusal("new_meter_serial", "unknown_meter", "no meter has this serial"))
    if report.replaced_at > now:
        return _refused(Refusal("replaced_at", "in_future", "the replacement instant is in the future"))
    same = session.scalars(
        select(MeterReplacement).where(
            MeterReplacement.old_meter_id == old.meter_id, MeterReplacement.replaced_at == report.replaced_at
        )
    ).first()
    if same is not None:
        if same.new_meter_id == new.meter_id and same.consumer_id == consumer[0]:
            return Outcome(same.id, duplicate=True)
        return _refused(
            Refusal(
                "replaced_at", "conflicting_replacement", f"replacement {same.id} took this meter off then"
            )
        )
    if old.meter_class != "scalar" or new.meter_class != "scalar":
        wrong = "old_meter_serial" if old.meter_class != "scalar" else "new_meter_serial"
        return _refused(
            Refusal(wrong, "not_scalar", "a scalar -> scalar replacement needs two scalar meters")
        )
    installation = open_installation(session, old.meter_id, lock=True)
    status = statuses(session, [new.meter_id]).get(new.meter_id)
    last = last_total_kwh_read(session, old.meter_id, installation.installed_at) if installation else None
    refusals = check_replacement(
        old_meter_consumer_id=installation.consumer_id if installation else None,
        consumer_id=consumer[0],
        new_meter_status=status,
        final_kwh=report.final_kwh,
        last_read_kwh=Decimal(str(last[1])).quantize(Decimal("0.001")) if last else None,
        initial_kwh=report.initial_kwh,
    )
    if installation is not None and report.replaced_at <= installation.installed_at:
        refusals.append(
            Refusal("replaced_at", "before_installation", "the old meter was installed after this instant")
        )
    if last is not None and last[0] >= report.replaced_at:
        refusals.append(
            Refusal("replaced_at", "before_last_read", f"the old meter has a read at {last[0].isoformat()}")
        )
    if refusals or installation is None:
        return _refused(*refusals)
    return Outcome(_apply(session, report, installation, consumer[0], old.meter_id, new.meter_id, actor))


def _apply(
    session: Session,
    report: ReplacementReport,
    installation: OpenInstallation,
    consumer_id: int,
    old_id: int,
    new_id: int,
    actor: Actor,
) -> int:
    at = report.replaced_at
    row = MeterReplacement(
        kind="scalar", state="done", source=actor.name, consumer_id=consumer_id, old_meter_id=old_id,
        new_meter_id=new_id, replaced_at=at, final_kwh=report.final_kwh, initial_kwh=report.initial_kwh,
        photo_ref=report.photo_ref, decided_at=at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    reason = f"replacement {row.id}"
    adopt_installed(session, old_id, installation.installed_at, actor)
    move(session, old_id, "removed", at, actor, reason)
    move(session, new_id, "issued", at, actor, reason)
    move(session, new_id, "installed", at, actor, reason)
    switch_installation(session, installation, new_id, at, report.final_kwh, report.initial_kwh, actor)
    ingest_batch(session, final_read_batch(report, actor.name), actor=actor)
    # The reads already stored after the instant now count from the new installation.
    first_day, last_day = local_days_of(at - timedelta(seconds=1), at + FOLLOWING_READS)
    refresh(session, [old_id, new_id], first_day, last_day)
    record(
        session, actor, "create", "meter_replacement", str(row.id), None,
        {"kind": "scalar", "ivrs_number": report.ivrs_number, "old": report.old_meter_serial,
         "new": report.new_meter_serial, "replaced_at": at.isoformat()},
    )  # fmt: skip
    return int(row.id)


def final_read_batch(report: ReplacementReport, source: str) -> CanonicalBatch:
    """The old meter's final read as a scalar register read at the replacement instant."""
    at = np.array([np.datetime64(report.replaced_at.astimezone(UTC).replace(tzinfo=None), "s")])
    return CanonicalBatch(
        source=f"replacement:{source}"[:64],
        registers=Registers(
            meter=np.array([report.old_meter_serial], dtype=object),
            kind=np.array(["scalar"], dtype=object),
            channel=np.array(["kwh"], dtype=object),
            tod_zone=np.zeros(1, dtype=np.int16),
            read_at=at,
            value=np.array([float(report.final_kwh)], dtype=np.float64),
            occurred_at=np.full(1, np.datetime64("NaT"), dtype="datetime64[s]"),
            reading_status=np.array(["normal"], dtype=object),
        ),
    )
