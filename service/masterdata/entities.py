"""What each exchanged entity is: its table, natural key, attributes, references and parent link."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from marshmallow import Schema

from service.masterdata import schemas
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


@dataclass(frozen=True)
class ParentRef:
    field: str  # in the row: "dtr_code"
    column: str  # on the link table: "dtr_id"
    model: Any  # Dtr


@dataclass(frozen=True)
class LinkSpec:
    """An effective-dated link from the entity to its parent in the network."""

    model: Any
    child_column: str
    parents: tuple[ParentRef, ...]


@dataclass(frozen=True)
class EntitySpec:
    name: str  # the URL segment
    audit_entity: str
    model: Any
    key: str  # natural key: row field and column
    row_schema: type[Schema]
    read_schema: type[Schema]
    # Row fields stored on the entity's own table ("org_unit_code" becomes org_unit_id).
    attributes: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    link: LinkSpec | None = None


# Row fields that name another record, and the column holding that record's code.
REFERENCES: dict[str, Any] = {
    "org_unit_code": OrgUnit.code,
    "substation_code": Substation.code,
    "feeder_code": Feeder.code,
    "dtr_code": Dtr.code,
    "ivrs_number": Consumer.ivrs_number,
    "meter_serial": Meter.serial_number,
}

REFERENCE_NAMES = {
    "org_unit_code": "org unit",
    "parent_code": "org unit",
    "substation_code": "substation",
    "feeder_code": "feeder",
    "dtr_code": "DTR",
    "ivrs_number": "consumer",
    "meter_serial": "meter",
}

SUBSTATIONS = EntitySpec(
    "substations",
    "substation",
    Substation,
    "code",
    schemas.SubstationRow,
    schemas.SubstationRead,
    attributes=("name", "voltage_class", "org_unit_code"),
)

FEEDERS = EntitySpec(
    "feeders",
    "feeder",
    Feeder,
    "code",
    schemas.FeederRow,
    schemas.FeederRead,
    attributes=("name", "voltage_kv", "feeder_type", "org_unit_code"),
    link=LinkSpec(
        FeederSubstationLink, "feeder_id", (ParentRef("substation_code", "substation_id", Substation),)
    ),
)

DTRS = EntitySpec(
    "dtrs",
    "dtr",
    Dtr,
    "code",
    schemas.DtrRow,
    schemas.DtrRead,
    attributes=("name", "capacity_kva", "org_unit_code"),
    link=LinkSpec(DtrFeederLink, "dtr_id", (ParentRef("feeder_code", "feeder_id", Feeder),)),
)

CONSUMERS = EntitySpec(
    "consumers",
    "consumer",
    Consumer,
    "ivrs_number",
    schemas.ConsumerRow,
    schemas.ConsumerRead,
    attributes=(
        "usage_point_id",
        "name",
        "address",
        "mobile",
        "language",
        "connection_date",
        "tariff_category",
        "sanctioned_load",
        "sanctioned_load_unit",
        "phase",
        "connection_type",
        "supply_status",
        "is_prepaid",
        "is_net_metered",
        "essential_service",
        "org_unit_code",
    ),
    defaults=dict(
        usage_point_id=None,
        address="",
        mobile=None,
        language="hi",
        connection_date=None,
        sanctioned_load_unit="kW",
        phase=1,
        connection_type="LT",
        supply_status="connected",
        is_prepaid=False,
        is_net_metered=False,
        essential_service=False,
    ),
    link=LinkSpec(
        ConsumerSupplyLink,
        "consumer_id",
        (ParentRef("dtr_code", "dtr_id", Dtr), ParentRef("feeder_code", "feeder_id", Feeder)),
    ),
)

METERS = EntitySpec(
    "meters",
    "meter",
    Meter,
    "serial_number",
    schemas.MeterRow,
    schemas.MeterRead,
    attributes=(
        "make",
        "model",
        "meter_class",
        "meter_constant",
        "multiplying_factor",
        "ct_ratio",
        "pt_ratio",
        "display_digits",
        "is_dlms",
        "firmware",
        "rating",
        "po_date",
        "warranty_end",
        "communication",
        "hes_code",
        "org_unit_code",
    ),
    defaults=dict(
        model=None,
        meter_constant=None,
        multiplying_factor=Decimal(1),
        ct_ratio=None,
        pt_ratio=None,
        display_digits=6,
        is_dlms=False,
        firmware=None,
        rating=None,
        po_date=None,
        warranty_end=None,
        communication="none",
        hes_code=None,
    ),
)

# Upserted by their own modules (hierarchy paths; replacements), listed like the others.
ORG_UNITS = EntitySpec("org-units", "org_unit", OrgUnit, "code", schemas.OrgUnitRow, schemas.OrgUnitRead)
INSTALLATIONS = EntitySpec(
    "installations", "installation", Installation, "key", schemas.InstallationRow, schemas.InstallationRead
)
# Net metering (service.masterdata.net_metering upserts them).
SOLAR_PLANTS = EntitySpec(
    "solar-plants", "solar_plant", SolarPlant, "code", schemas.SolarPlantRow, schemas.SolarPlantRead
)
NET_METERING_AGREEMENTS = EntitySpec(
    "net-metering-agreements",
    "net_metering_agreement",
    NetMeteringAgreement,
    "agreement_number",
    schemas.NetMeteringAgreementRow,
    schemas.NetMeteringAgreementRead,
)

ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        ORG_UNITS,
        SUBSTATIONS,
        FEEDERS,
        DTRS,
        CONSUMERS,
        METERS,
        INSTALLATIONS,
        SOLAR_PLANTS,
        NET_METERING_AGREEMENTS,
    )
}
