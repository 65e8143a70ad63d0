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


@dataclass(frozen=True)
class Checked:
    """A report that passed every check, with the ids it names."""

    consumer_id: int
    consumer_org_id: int
    old_id: int
    new_id: int
    installation: OpenInstallation


def check_report(
    session: Session,
    report: ReplacementReport,
    now: datetime,
    visible_orgs: set[int] | None,
    kind: str = "scalar",
) -> Checked | Outcome:
    """The facts behind a report, or an Outcome: refusals (each naming its field) or the duplicate
    of a stored replacement. `kind` "smart": the new meter is a smart meter behind a HES.
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
            MeterReplacement.old_meter_id == old.meter_id,
            MeterReplacement.replaced_at == report.replaced_at,
            MeterReplacement.state.not_in(("rejected", "failed")),
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
    if old.meter_class != "scalar":
        return _refused(Refusal("old_meter_serial", "not_scalar", "the old meter must be a scalar meter"))
    if kind == "scalar" and new.meter_class != "scalar":
        return _refused(
            Refusal(
                "new_meter_serial", "not_scalar", "a scalar -> scalar replacement needs two scalar meters"
            )
        )
    if kind == "smart" and (not new.meter_class.startswith("smart") or not new.hes_code):
        return _refused(
            Refusal("new_meter_serial", "not_smart", "the new meter is not a smart meter behind a HES")
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
    return Checked(consumer[0], consumer[1], old.meter_id, new.meter_id, installation)


def new_replacement(
    session: Session, report: ReplacementReport, checked: Checked, kind: str, state: str, source: str
) -> MeterReplacement:
    row = MeterReplacement(
        kind=kind, state=state, source=source, consumer_id=checked.consumer_id, old_meter_id=checked.old_id,
        new_meter_id=checked.new_id, replaced_at=report.replaced_at, final_kwh=report.final_kwh,
        initial_kwh=report.initial_kwh, photo_ref=report.photo_ref,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def record_scalar_replacement(
    session: Session,
    report: ReplacementReport,
    actor: Actor,
    now: datetime,
    visible_orgs: set[int] | None = None,
) -> Outcome:
    """Check and apply one scalar -> scalar replacement; the refusals name the field. Never commits."""
    checked = check_report(session, report, now, visible_orgs)
    if isinstance(checked, Outcome):
        return checked
    row = new_replacement(session, report, checked, "scalar", "done", actor.name)
    switch(session, row, checked.installation, report.old_meter_serial, actor)
    record(
        session, actor, "create", "meter_replacement", str(row.id), None,
        {"kind": "scalar", "ivrs_number": report.ivrs_number, "old": report.old_meter_serial,
         "new": report.new_meter_serial, "replaced_at": report.replaced_at.isoformat()},
    )  # fmt: skip
    return Outcome(int(row.id))


def switch(
    session: Session, row: MeterReplacement, installation: OpenInstallation, old_serial: str, actor: Actor
) -> None:
    """Both asset moves, the installation switch at the instant, the final read through ingest and
    the aggregates of both meters from that day: what a replacement does once it is allowed."""
    at, reason = row.replaced_at, f"replacement {row.id}"
    adopt_installed(session, row.old_meter_id, installation.installed_at, actor)
    move(session, row.old_meter_id, "removed", at, actor, reason)
    move(session, row.new_meter_id, "issued", at, actor, reason)
    move(session, row.new_meter_id, "installed", at, actor, reason)
    switch_installation(session, installation, row.new_meter_id, at, row.final_kwh, row.initial_kwh, actor)
    ingest_batch(session, final_read_batch(old_serial, at, row.final_kwh, actor.name), actor=actor)
    # The reads already stored after the instant now count from the new installation.
    first_day, last_day = local_days_of(at - timedelta(seconds=1), at + FOLLOWING_READS)
    refresh(session, [row.old_meter_id, row.new_meter_id], first_day, last_day)
    row.state, row.decided_at = "done", row.decided_at or at


def final_read_batch(serial: str, replaced_at: datetime, final_kwh: Decimal, source: str) -> CanonicalBatch:
    """The old meter's final read as a scalar register read at the replacement instant."""
    at = np.array([np.datetime64(replaced_at.astimezone(UTC).replace(tzinfo=None), "s")])
    return CanonicalBatch(
        source=f"replacement:{source}"[:64],
        registers=Registers(
            meter=np.array([serial], dtype=object),
            kind=np.array(["scalar"], dtype=object),
            channel=np.array(["kwh"], dtype=object),
            tod_zone=np.zeros(1, dtype=np.int16),
            read_at=at,
            value=np.array([float(final_kwh)], dtype=np.float64),
            occurred_at=np.full(1, np.datetime64("NaT"), dtype="datetime64[s]"),
            reading_status=np.array(["normal"], dtype=object),
        ),
    )
