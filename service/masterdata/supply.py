"""Public facts for the disconnection processes: a consumer's current meter, division and flags,
and the supply status they set. Other packages call these instead of reading master-data tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Subquery, func, select, update
from sqlalchemy.orm import Session, aliased

from service.masterdata.models import (
    Consumer,
    ConsumerSupplyLink,
    Dtr,
    DtrFeederLink,
    Feeder,
    Installation,
    Meter,
    OrgUnit,
)


@dataclass(frozen=True)
class ConsumerSupply:
    consumer_id: int
    ivrs_number: str
    org_unit_id: int
    division_id: int | None  # the consumer's division (its own unit or the ancestor at that level)
    supply_status: str
    is_prepaid: bool
    essential_service: bool
    meter_id: int | None
    meter_serial: str | None
    meter_class: str | None
    hes_code: str | None


def consumers_by_ivrs(session: Session, ivrs_numbers: Iterable[str]) -> dict[str, ConsumerSupply]:
    wanted = sorted(set(ivrs_numbers))
    if not wanted:
        return {}
    return {c.ivrs_number: c for c in _supplies(session, Consumer.ivrs_number.in_(wanted))}


def consumers_by_id(session: Session, consumer_ids: Iterable[int]) -> dict[int, ConsumerSupply]:
    wanted = sorted(set(consumer_ids))
    if not wanted:
        return {}
    return {c.consumer_id: c for c in _supplies(session, Consumer.id.in_(wanted))}


def _supplies(session: Session, where: Any) -> list[ConsumerSupply]:
    unit, division = aliased(OrgUnit), aliased(OrgUnit)
    rows = session.execute(
        select(
            Consumer.id,
            Consumer.ivrs_number,
            Consumer.org_unit_id,
            Consumer.supply_status,
            Consumer.is_prepaid,
            Consumer.essential_service,
            division.id.label("division_id"),
            Meter.id.label("meter_id"),
            Meter.serial_number,
            Meter.meter_class,
            Meter.hes_code,
        )  # fmt: skip
        .join(unit, unit.id == Consumer.org_unit_id)
        .outerjoin(
            division,
            (division.level == "division") & func.starts_with(unit.path, division.path),
        )
        .outerjoin(
            Installation, (Installation.consumer_id == Consumer.id) & Installation.removed_at.is_(None)
        )
        .outerjoin(Meter, Meter.id == Installation.meter_id)
        .where(where)
    ).all()
    return [
        ConsumerSupply(
            r.id,
            r.ivrs_number,
            r.org_unit_id,
            r.division_id,
            r.supply_status,
            r.is_prepaid,
            r.essential_service,
            r.meter_id,
            r.serial_number,
            r.meter_class,
            r.hes_code,
        )  # fmt: skip
        for r in rows
    ]


def set_supply_status(session: Session, consumer_ids: Sequence[int], status: str) -> int:
    """Record what the meter's relay now does (after a confirmed connect/disconnect)."""
    if not consumer_ids:
        return 0
    result = session.execute(
        update(Consumer).where(Consumer.id.in_(list(consumer_ids))).values(supply_status=status)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def org_unit_codes(session: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    return dict(
        session.execute(select(OrgUnit.id, OrgUnit.code).where(OrgUnit.id.in_(wanted))).tuples().all()
    )


def discom_code_of(session: Session, org_unit_id: int) -> str:
    """The code of the discom an org unit belongs to (the first code of its path)."""
    path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == org_unit_id)) or "/"
    return path.strip("/").split("/")[0]


@dataclass(frozen=True)
class MeterHes:
    meter_id: int
    serial: str
    hes_code: str | None
    org_unit_id: int


def meter_by_serial(session: Session, serial: str) -> MeterHes | None:
    row = session.execute(
        select(Meter.id, Meter.serial_number, Meter.hes_code, Meter.org_unit_id).where(
            Meter.serial_number == serial
        )
    ).first()
    return None if row is None else MeterHes(row.id, row.serial_number, row.hes_code, row.org_unit_id)


def set_prepaid(session: Session, consumer_id: int, prepaid: bool) -> bool:
    """Set the consumer's payment-mode flag (the prepaid package keeps the effective-dated
    history); False when there is no such consumer."""
    result = session.execute(update(Consumer).where(Consumer.id == consumer_id).values(is_prepaid=prepaid))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def supply_points() -> Subquery:
    """Each consumer's supply point today as an SQL subquery (consumer_id, org_unit_code, dtr_code,
    feeder_code) for another area's lists to join and filter on; the DT's feeder for LT consumers."""
    dtr_feeder = aliased(Feeder)
    return (
        select(
            Consumer.id.label("consumer_id"),
            OrgUnit.code.label("org_unit_code"),
            Dtr.code.label("dtr_code"),
            func.coalesce(Feeder.code, dtr_feeder.code).label("feeder_code"),
        )
        .join(OrgUnit, OrgUnit.id == Consumer.org_unit_id)
        .outerjoin(
            ConsumerSupplyLink,
            (ConsumerSupplyLink.consumer_id == Consumer.id) & ConsumerSupplyLink.valid_to.is_(None),
        )
        .outerjoin(Dtr, Dtr.id == ConsumerSupplyLink.dtr_id)
        .outerjoin(Feeder, Feeder.id == ConsumerSupplyLink.feeder_id)
        .outerjoin(DtrFeederLink, (DtrFeederLink.dtr_id == Dtr.id) & DtrFeederLink.valid_to.is_(None))
        .outerjoin(dtr_feeder, dtr_feeder.id == DtrFeederLink.feeder_id)
        .subquery("supply_points")
    )


def hes_code_of_meters(session: Session, serials: Iterable[str]) -> str | None:
    """The HES the given meters are behind (the most common code if they differ); None if none is."""
    wanted = sorted(set(serials))
    if not wanted:
        return None
    return session.scalar(
        select(Meter.hes_code)
        .where(Meter.serial_number.in_(wanted), Meter.hes_code.is_not(None))
        .group_by(Meter.hes_code)
        .order_by(func.count().desc(), Meter.hes_code)
        .limit(1)
    )
