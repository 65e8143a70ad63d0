"""A meter replacement in master data: the old installation closes and the new one opens at the
same instant, with the final and initial reads (the other packages' way in: ids and values)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from service.audit.log import Actor, record
from service.masterdata.models import Consumer, Installation, Meter, OrgUnit


@dataclass(frozen=True)
class OpenInstallation:
    installation_id: int
    meter_id: int
    consumer_id: int | None  # None: on a feeder or a DTR
    installed_at: datetime


@dataclass(frozen=True)
class MeterFacts:
    meter_id: int
    serial: str
    meter_class: str
    org_unit_id: int
    hes_code: str | None


def consumer_id_by_ivrs(session: Session, ivrs_numbers: list[str]) -> dict[str, tuple[int, int]]:
    """IVRS number -> (consumer id, org unit id) for those that exist."""
    rows = session.execute(
        select(Consumer.ivrs_number, Consumer.id, Consumer.org_unit_id).where(
            Consumer.ivrs_number.in_(ivrs_numbers)
        )
    )
    return {r.ivrs_number: (r.id, r.org_unit_id) for r in rows}


def meters_by_serial(session: Session, serials: list[str]) -> dict[str, MeterFacts]:
    rows = session.execute(
        select(Meter.id, Meter.serial_number, Meter.meter_class, Meter.org_unit_id, Meter.hes_code).where(
            Meter.serial_number.in_(serials)
        )
    )
    return {
        r.serial_number: MeterFacts(r.id, r.serial_number, r.meter_class, r.org_unit_id, r.hes_code)
        for r in rows
    }


def open_installation(session: Session, meter_id: int, *, lock: bool = False) -> OpenInstallation | None:
    """The meter's installation still open (at most one per meter), locked when asked."""
    stmt = select(Installation).where(Installation.meter_id == meter_id, Installation.removed_at.is_(None))
    row = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        return None
    return OpenInstallation(row.id, row.meter_id, row.consumer_id, row.installed_at)


def switch_installation(
    session: Session,
    old: OpenInstallation,
    new_meter_id: int,
    at: datetime,
    final_kwh: Decimal,
    initial_kwh: Decimal,
    actor: Actor,
) -> int:
    """Close `old` at `at` with its final read and open the new meter on the same consumer at
    the same instant; return the new installation's id. The caller has checked both meters."""
    closed = session.execute(
        update(Installation)
        .where(Installation.id == old.installation_id, Installation.removed_at.is_(None))
        .values(removed_at=at, final_kwh=final_kwh)
    ).rowcount  # type: ignore[attr-defined]
    if closed != 1:
        raise ValueError(f"installation {old.installation_id} is no longer open")
    new_id = int(
        session.execute(
            insert(Installation)
            .values(
                meter_id=new_meter_id, consumer_id=old.consumer_id, installed_at=at, initial_kwh=initial_kwh
            )
            .returning(Installation.id)
        ).scalar_one()
    )
    record(
        session, actor, "replace", "installation", str(old.installation_id),
        {"removed_at": None},
        {"removed_at": at.isoformat(), "final_kwh": str(final_kwh), "new_installation_id": new_id,
         "new_meter_id": new_meter_id, "initial_kwh": str(initial_kwh)},
    )  # fmt: skip
    return new_id


def org_unit_ids_by_code(session: Session, codes: list[str]) -> dict[str, int]:
    return dict(
        session.execute(select(OrgUnit.code, OrgUnit.id).where(OrgUnit.code.in_(codes))).tuples().all()
    )


def meter_serials(session: Session, meter_ids: list[int]) -> dict[int, str]:
    return dict(
        session.execute(select(Meter.id, Meter.serial_number).where(Meter.id.in_(meter_ids))).tuples().all()
    )


def installations_of(session: Session, meter_id: int) -> list[dict[str, object]]:
    """Every installation of the meter, newest first, with the consumer's IVRS number."""
    rows = session.execute(
        select(
            Installation.installed_at,
            Installation.removed_at,
            Installation.initial_kwh,
            Installation.final_kwh,
            Consumer.ivrs_number,
        )
        .outerjoin(Consumer, Consumer.id == Installation.consumer_id)
        .where(Installation.meter_id == meter_id)
        .order_by(Installation.installed_at.desc())
    ).mappings()
    return [dict(r) for r in rows]
