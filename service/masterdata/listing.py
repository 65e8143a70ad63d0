"""Listing and lookup of master data, every query scoped to the principal's org unit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import FunctionType
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from service.auth.principal import Principal
from service.auth.scoping import at_or_below, scope_to_org
from service.masterdata.entities import CONSUMERS, METERS, EntitySpec
from service.masterdata.installation_upsert import installation_key
from service.masterdata.models import (
    Consumer,
    ConsumerSupplyLink,
    Dtr,
    DtrFeederLink,
    Feeder,
    FeederSubstationLink,
    Installation,
    Meter,
    NetMeteringAgreement,
    OrgUnit,
    SolarPlant,
    Substation,
)

COMMON_FILTERS = frozenset({"page", "page_size", "q", "org_unit", "updated_since"})


class UnknownFilter(ValueError):
    pass


@dataclass(frozen=True)
class Listing:
    """How one entity is read: the base query, its org column, key, text-search and filters."""

    base: Callable[[], Select[Any]]
    org_column: Any
    key_column: Any
    search: tuple[Any, ...]
    filters: Mapping[str, Callable[[Any], Any]]
    updated_column: Any
    order: Any


def _org_units() -> Select[Any]:
    parent = aliased(OrgUnit)
    return select(
        OrgUnit.code,
        OrgUnit.name,
        OrgUnit.level,
        parent.code.label("parent_code"),
        OrgUnit.path,
        OrgUnit.updated_at,
    ).outerjoin(parent, parent.id == OrgUnit.parent_id)


def _substations() -> Select[Any]:
    return select(
        Substation.code,
        Substation.name,
        Substation.voltage_class,
        OrgUnit.code.label("org_unit_code"),
        Substation.updated_at,
    ).join(OrgUnit, OrgUnit.id == Substation.org_unit_id)


_FSL = aliased(FeederSubstationLink, name="fsl")
_FSL_SUB = aliased(Substation, name="fsl_sub")
_DFL = aliased(DtrFeederLink, name="dfl")
_DFL_FEEDER = aliased(Feeder, name="dfl_feeder")
_CSL = aliased(ConsumerSupplyLink, name="csl")
_CSL_DTR = aliased(Dtr, name="csl_dtr")
_CSL_FEEDER = aliased(Feeder, name="csl_feeder")


def _feeders() -> Select[Any]:
    return (
        select(
            Feeder.code,
            Feeder.name,
            Feeder.voltage_kv,
            Feeder.feeder_type,
            OrgUnit.code.label("org_unit_code"),
            _FSL_SUB.code.label("substation_code"),
            _FSL.valid_from.label("linked_since"),
            Feeder.updated_at,
        )
        .join(OrgUnit, OrgUnit.id == Feeder.org_unit_id)
        .outerjoin(_FSL, and_(_FSL.feeder_id == Feeder.id, _FSL.valid_to.is_(None)))
        .outerjoin(_FSL_SUB, _FSL_SUB.id == _FSL.substation_id)
    )


def _dtrs() -> Select[Any]:
    return (
        select(
            Dtr.code,
            Dtr.name,
            Dtr.capacity_kva,
            OrgUnit.code.label("org_unit_code"),
            _DFL_FEEDER.code.label("feeder_code"),
            _DFL.valid_from.label("linked_since"),
            Dtr.updated_at,
        )
        .join(OrgUnit, OrgUnit.id == Dtr.org_unit_id)
        .outerjoin(_DFL, and_(_DFL.dtr_id == Dtr.id, _DFL.valid_to.is_(None)))
        .outerjoin(_DFL_FEEDER, _DFL_FEEDER.id == _DFL.feeder_id)
    )


def _listed_columns(spec: EntitySpec) -> tuple[str, ...]:
    """The entity's own columns as listed: natural key, upserted attributes, updated_at (the org
    unit code comes from a join)."""
    return (spec.key, *(a for a in spec.attributes if a != "org_unit_code"), "updated_at")


_CONSUMER_COLUMNS = _listed_columns(CONSUMERS)


def _consumers() -> Select[Any]:
    return (
        select(
            *(getattr(Consumer, c) for c in _CONSUMER_COLUMNS),
            OrgUnit.code.label("org_unit_code"),
            _CSL_DTR.code.label("dtr_code"),
            _CSL_FEEDER.code.label("feeder_code"),
            _CSL.valid_from.label("linked_since"),
        )
        .join(OrgUnit, OrgUnit.id == Consumer.org_unit_id)
        .outerjoin(_CSL, and_(_CSL.consumer_id == Consumer.id, _CSL.valid_to.is_(None)))
        .outerjoin(_CSL_DTR, _CSL_DTR.id == _CSL.dtr_id)
        .outerjoin(_CSL_FEEDER, _CSL_FEEDER.id == _CSL.feeder_id)
    )


_METER_COLUMNS = _listed_columns(METERS)


def _meters() -> Select[Any]:
    return select(*(getattr(Meter, c) for c in _METER_COLUMNS), OrgUnit.code.label("org_unit_code")).join(
        OrgUnit, OrgUnit.id == Meter.org_unit_id
    )


_IC, _IF, _ID = aliased(Consumer, name="ic"), aliased(Feeder, name="if_"), aliased(Dtr, name="id_")


def _installations() -> Select[Any]:
    return (
        select(
            Meter.serial_number.label("meter_serial"),
            _IC.ivrs_number,
            _IF.code.label("feeder_code"),
            _ID.code.label("dtr_code"),
            Installation.installed_at,
            Installation.removed_at,
            Installation.initial_kwh,
            Installation.initial_kvah,
            Installation.final_kwh,
            Installation.final_kvah,
            Installation.updated_at,
        )
        .join(Meter, Meter.id == Installation.meter_id)
        .join(OrgUnit, OrgUnit.id == Meter.org_unit_id)
        .outerjoin(_IC, _IC.id == Installation.consumer_id)
        .outerjoin(_IF, _IF.id == Installation.feeder_id)
        .outerjoin(_ID, _ID.id == Installation.dtr_id)
    )


_PC, _AC = aliased(Consumer, name="pc"), aliased(Consumer, name="ac")
_AP = aliased(SolarPlant, name="ap")


def _solar_plants() -> Select[Any]:
    return select(
        SolarPlant.code,
        _PC.ivrs_number,
        SolarPlant.capacity_kwp,
        SolarPlant.commissioning_date,
        SolarPlant.inverter_make,
        SolarPlant.updated_at,
    ).join(_PC, _PC.id == SolarPlant.consumer_id)


def _agreements() -> Select[Any]:
    a = NetMeteringAgreement
    return (
        select(
            a.agreement_number,
            _AC.ivrs_number,
            _AP.code.label("plant_code"),
            a.valid_from,
            a.valid_to,
            a.settlement_rule,
            a.settlement_start_month,
            a.surplus_rate,
            a.updated_at,
        )
        .join(_AC, _AC.id == a.consumer_id)
        .join(_AP, _AP.id == a.plant_id)
    )


def _installed_meter_like(pattern: str) -> ColumnElement[bool]:
    """A consumer on whom a meter with a matching serial is or was installed (CCC search)."""
    return exists(
        select(Installation.id)
        .join(Meter, Meter.id == Installation.meter_id)
        .where(Installation.consumer_id == Consumer.id, Meter.serial_number.ilike(pattern, escape="\\"))
    )


LISTINGS: dict[str, Listing] = {
    "org-units": Listing(
        _org_units,
        OrgUnit.id,
        OrgUnit.code,
        (OrgUnit.code, OrgUnit.name),
        {"level": lambda v: OrgUnit.level == v},
        OrgUnit.updated_at,
        OrgUnit.path,
    ),  # fmt: skip
    "substations": Listing(
        _substations,
        Substation.org_unit_id,
        Substation.code,
        (Substation.code, Substation.name),
        {},
        Substation.updated_at,
        Substation.code,
    ),  # fmt: skip
    "feeders": Listing(
        _feeders,
        Feeder.org_unit_id,
        Feeder.code,
        (Feeder.code, Feeder.name),
        {"feeder_type": lambda v: Feeder.feeder_type == v},
        Feeder.updated_at,
        Feeder.code,
    ),  # fmt: skip
    "dtrs": Listing(
        _dtrs,
        Dtr.org_unit_id,
        Dtr.code,
        (Dtr.code, Dtr.name),
        {"feeder_code": lambda v: _DFL_FEEDER.code == v},
        Dtr.updated_at,
        Dtr.code,
    ),  # fmt: skip
    "consumers": Listing(
        _consumers,
        Consumer.org_unit_id,
        Consumer.ivrs_number,
        (Consumer.ivrs_number, Consumer.name, Consumer.mobile, _installed_meter_like),
        {
            "tariff_category": lambda v: Consumer.tariff_category == v,
            "supply_status": lambda v: Consumer.supply_status == v,
            "connection_type": lambda v: Consumer.connection_type == v,
            "is_prepaid": lambda v: Consumer.is_prepaid.is_(v),
            "dtr_code": lambda v: _CSL_DTR.code == v,
            "feeder_code": lambda v: _CSL_FEEDER.code == v,
        },
        Consumer.updated_at,
        Consumer.ivrs_number,
    ),  # fmt: skip
    "meters": Listing(
        _meters,
        Meter.org_unit_id,
        Meter.serial_number,
        (Meter.serial_number, Meter.make),
        {"meter_class": lambda v: Meter.meter_class == v, "hes_code": lambda v: Meter.hes_code == v},
        Meter.updated_at,
        Meter.serial_number,
    ),  # fmt: skip
    "installations": Listing(
        _installations,
        Meter.org_unit_id,
        None,
        (Meter.serial_number, _IC.ivrs_number),
        {
            "meter_serial": lambda v: Meter.serial_number == v,
            "ivrs_number": lambda v: _IC.ivrs_number == v,
            "open_only": lambda v: Installation.removed_at.is_(None) if v else literal(True),
        },
        Installation.updated_at,
        (Meter.serial_number, Installation.installed_at),
    ),  # fmt: skip
    "solar-plants": Listing(
        _solar_plants,
        _PC.org_unit_id,
        SolarPlant.code,
        (SolarPlant.code, _PC.ivrs_number, SolarPlant.inverter_make),
        {"ivrs_number": lambda v: _PC.ivrs_number == v},
        SolarPlant.updated_at,
        SolarPlant.code,
    ),  # fmt: skip
    "net-metering-agreements": Listing(
        _agreements,
        _AC.org_unit_id,
        NetMeteringAgreement.agreement_number,
        (NetMeteringAgreement.agreement_number, _AC.ivrs_number),
        {
            "ivrs_number": lambda v: _AC.ivrs_number == v,
            "settlement_rule": lambda v: NetMeteringAgreement.settlement_rule == v,
        },
        NetMeteringAgreement.updated_at,
        NetMeteringAgreement.agreement_number,
    ),  # fmt: skip
}


def filtered_query(
    session: Session, entity: str, args: Mapping[str, Any], principal: Principal
) -> Select[Any]:
    """The scoped, filtered listing of `entity`, unordered (pages and exports order it)."""
    listing = LISTINGS[entity]
    unknown = sorted(set(args) - COMMON_FILTERS - set(listing.filters))
    if unknown:
        raise UnknownFilter(f"{', '.join(unknown)}: not a filter of {entity}")
    stmt = scope_to_org(listing.base(), listing.org_column, principal)
    for name, value in args.items():
        if name in listing.filters:
            stmt = stmt.where(listing.filters[name](value))
    if "q" in args:
        pattern = f"%{_escape_like(args['q'])}%"
        stmt = stmt.where(or_(*(_matches(column, pattern) for column in listing.search)))
    if "org_unit" in args:
        root = select(OrgUnit.path).where(OrgUnit.code == args["org_unit"]).scalar_subquery()
        below = select(OrgUnit.id).where(at_or_below(root))
        stmt = stmt.where(listing.org_column.in_(below))
    if "updated_since" in args:
        stmt = stmt.where(listing.updated_column >= args["updated_since"])
    return stmt


def _matches(column: Any, pattern: str) -> Any:
    # a search entry is a column, or a function of the pattern (a match through another table)
    return column(pattern) if isinstance(column, FunctionType) else column.ilike(pattern, escape="\\")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _item(entity: str, row: Any) -> dict[str, Any]:
    item = dict(row)
    if entity == "installations":
        item["key"] = installation_key(item["meter_serial"], item["installed_at"])
    return item


def list_page(session: Session, entity: str, args: Mapping[str, Any], principal: Principal) -> dict[str, Any]:
    """{"items", "page", "page_size", "total"} for one page of a filtered, scoped listing."""
    page, page_size = int(args.get("page", 1)), int(args.get("page_size", 100))
    filters = {k: v for k, v in args.items() if k not in ("page", "page_size")}
    stmt = filtered_query(session, entity, filters, principal)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    order = LISTINGS[entity].order
    ordered = stmt.order_by(*(order if isinstance(order, tuple) else (order,)))
    rows = session.execute(ordered.limit(page_size).offset((page - 1) * page_size)).mappings()
    return {
        "items": [_item(entity, row) for row in rows],
        "page": page,
        "page_size": page_size,
        "total": total,
    }


def get_one(session: Session, entity: str, key: str, principal: Principal) -> dict[str, Any] | None:
    """One record by natural key, or None when it does not exist or lies outside the scope."""
    listing = LISTINGS[entity]
    stmt = scope_to_org(listing.base(), listing.org_column, principal)
    if entity == "installations":
        serial, sep, at = key.rpartition("@")
        try:
            installed_at = datetime.fromisoformat(at)
        except ValueError:
            return None
        if not sep or installed_at.tzinfo is None:
            return None
        stmt = stmt.where(Meter.serial_number == serial, Installation.installed_at == installed_at)
    else:
        stmt = stmt.where(listing.key_column == key)
    row = session.execute(stmt.limit(1)).mappings().first()
    return None if row is None else _item(entity, row)
