"""Master data as billing sends it: org hierarchy, network, consumers, meters, installations.

Relations that change over time (meter on consumer, consumer on DTR, DTR on feeder, feeder on
substation) are effective-dated rows [valid_from, valid_to), so any past day can be audited
with the network as it stood that day. A partial unique index allows one open link per child.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.extensions import db
from service.orgs import ORG_LEVELS, OrgUnit

__all__ = ["ORG_LEVELS", "OrgUnit"]  # the org tree lives in service.orgs; kept importable here

FEEDER_TYPES = ("urban", "rural_mixed", "agricultural", "industrial")
METER_CLASSES = (
    "scalar",
    "lt_amr",
    "ht_amr",
    "smart_1ph",
    "smart_3ph",
    "ltct",
    "feeder",
    "dt",
    "net",
)
TARIFF_CATEGORIES = (
    "LV1",  # domestic
    "LV2",  # non-domestic
    "LV3",  # public water works and street light
    "LV4",  # LT industrial
    "LV5",  # agriculture
    "HV1",  # HT industrial
    "HV2",  # HT non-industrial
    "HV3",  # HT public water works
    "HV4",  # HT seasonal
    "HV5",  # HT agriculture / irrigation
    "HV6",  # HT bulk residential
)
SUPPLY_STATUSES = ("connected", "disconnected", "temporarily_disconnected", "permanently_disconnected")
CONNECTION_TYPES = ("LT", "HT")
LANGUAGES = ("en", "hi")
COMMUNICATION = ("cellular", "rf", "plc", "none")

_now = func.now()


class Substation(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "substations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    voltage_class: Mapped[str] = mapped_column(String(16))  # "132/33", "33/11"
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)


class Feeder(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "feeders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    voltage_kv: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    feeder_type: Mapped[str] = mapped_column(String(16))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)

    __table_args__ = (CheckConstraint(f"feeder_type IN {FEEDER_TYPES}", name="feeder_type"),)


class Dtr(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "dtrs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    capacity_kva: Mapped[Decimal] = mapped_column(Numeric(8, 1))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)


class Consumer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "consumers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ivrs_number: Mapped[str] = mapped_column(String(32), unique=True)
    # The CIM UsagePoint mRID an HES or MDM names this service point by (optional).
    usage_point_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    mobile: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2), default="hi")
    connection_date: Mapped[date | None] = mapped_column(Date)
    tariff_category: Mapped[str] = mapped_column(String(8))
    sanctioned_load: Mapped[Decimal] = mapped_column(Numeric(10, 3))
    sanctioned_load_unit: Mapped[str] = mapped_column(String(3), default="kW")  # kW | kVA
    phase: Mapped[int] = mapped_column(Integer, default=1)
    connection_type: Mapped[str] = mapped_column(String(2), default="LT")
    supply_status: Mapped[str] = mapped_column(String(32), default="connected")
    is_prepaid: Mapped[bool] = mapped_column(Boolean, default=False)
    is_net_metered: Mapped[bool] = mapped_column(Boolean, default=False)
    # Hospital, life support, water works: never disconnected for dues (safety rules).
    essential_service: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)

    __table_args__ = (
        CheckConstraint(f"tariff_category IN {TARIFF_CATEGORIES}", name="tariff_category"),
        CheckConstraint(f"supply_status IN {SUPPLY_STATUSES}", name="supply_status"),
        CheckConstraint(f"connection_type IN {CONNECTION_TYPES}", name="connection_type"),
        CheckConstraint(f"language IN {LANGUAGES}", name="language"),
        CheckConstraint("phase IN (1, 3)", name="phase"),
        CheckConstraint("sanctioned_load_unit IN ('kW', 'kVA')", name="load_unit"),
        CheckConstraint("sanctioned_load >= 0", name="load_nonneg"),
        Index(
            "uq_consumers_usage_point_id",
            "usage_point_id",
            unique=True,
            postgresql_where=text("usage_point_id IS NOT NULL"),
        ),
    )


class Meter(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "meters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial_number: Mapped[str] = mapped_column(String(40), unique=True)
    make: Mapped[str] = mapped_column(String(80))
    model: Mapped[str | None] = mapped_column(String(80))
    meter_class: Mapped[str] = mapped_column(String(16))
    meter_constant: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))  # imp/kWh
    multiplying_factor: Mapped[Decimal] = mapped_column(Numeric(12, 4), default=Decimal(1))
    ct_ratio: Mapped[str | None] = mapped_column(String(16))  # "100/5"
    pt_ratio: Mapped[str | None] = mapped_column(String(16))  # "11000/110"
    display_digits: Mapped[int] = mapped_column(Integer, default=6)
    is_dlms: Mapped[bool] = mapped_column(Boolean, default=False)
    firmware: Mapped[str | None] = mapped_column(String(40))
    rating: Mapped[str | None] = mapped_column(String(24))  # "5-30 A", "-/5 A"
    po_date: Mapped[date | None] = mapped_column(Date)
    warranty_end: Mapped[date | None] = mapped_column(Date)
    communication: Mapped[str] = mapped_column(String(16), default="none")
    hes_code: Mapped[str | None] = mapped_column(String(32))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)

    __table_args__ = (
        CheckConstraint(f"meter_class IN {METER_CLASSES}", name="meter_class"),
        CheckConstraint(f"communication IN {COMMUNICATION}", name="communication"),
        CheckConstraint("display_digits BETWEEN 4 AND 12", name="display_digits"),
        CheckConstraint("multiplying_factor > 0", name="mf_positive"),
    )


class _Link:
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FeederSubstationLink(_Link, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "feeder_substation_links"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    feeder_id: Mapped[int] = mapped_column(ForeignKey("feeders.id"))
    substation_id: Mapped[int] = mapped_column(ForeignKey("substations.id"), index=True)

    __table_args__ = (
        Index(
            "uq_feeder_substation_open", "feeder_id", unique=True, postgresql_where=text("valid_to IS NULL")
        ),
        Index("ix_feeder_substation_links_feeder", "feeder_id", "valid_from"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period"),
    )


class DtrFeederLink(_Link, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "dtr_feeder_links"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dtr_id: Mapped[int] = mapped_column(ForeignKey("dtrs.id"))
    feeder_id: Mapped[int] = mapped_column(ForeignKey("feeders.id"), index=True)

    __table_args__ = (
        Index("uq_dtr_feeder_open", "dtr_id", unique=True, postgresql_where=text("valid_to IS NULL")),
        Index("ix_dtr_feeder_links_dtr", "dtr_id", "valid_from"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period"),
    )


class ConsumerSupplyLink(_Link, db.Model):  # type: ignore[name-defined,misc]
    """A consumer on a DTR (LT) or directly on a feeder (HT/EHV)."""

    __tablename__ = "consumer_supply_links"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"))
    dtr_id: Mapped[int | None] = mapped_column(ForeignKey("dtrs.id"), index=True)
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeders.id"), index=True)

    __table_args__ = (
        Index(
            "uq_consumer_supply_open", "consumer_id", unique=True, postgresql_where=text("valid_to IS NULL")
        ),
        Index("ix_consumer_supply_links_consumer", "consumer_id", "valid_from"),
        CheckConstraint("(dtr_id IS NULL) <> (feeder_id IS NULL)", name="one_parent"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period"),
    )


class Installation(db.Model):  # type: ignore[name-defined,misc]
    """A meter installed on a consumer, a feeder (feeder meter) or a DTR (DT meter).

    A replacement closes one installation and opens another at the same instant; consumption
    across it is (final - last read) on the old meter + (read - initial) on the new.
    """

    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meters.id"))
    consumer_id: Mapped[int | None] = mapped_column(ForeignKey("consumers.id"), index=True)
    feeder_id: Mapped[int | None] = mapped_column(ForeignKey("feeders.id"), index=True)
    dtr_id: Mapped[int | None] = mapped_column(ForeignKey("dtrs.id"), index=True)
    installed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    initial_kwh: Mapped[Decimal] = mapped_column(Numeric(14, 3), default=Decimal(0))
    initial_kvah: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    final_kwh: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    final_kvah: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)

    __table_args__ = (
        Index(
            "uq_installation_meter_open", "meter_id", unique=True, postgresql_where=text("removed_at IS NULL")
        ),
        Index("ix_installations_meter", "meter_id", "installed_at"),
        CheckConstraint(
            "(consumer_id IS NOT NULL)::int + (feeder_id IS NOT NULL)::int + (dtr_id IS NOT NULL)::int = 1",
            name="one_target",
        ),
        CheckConstraint("removed_at IS NULL OR removed_at >= installed_at", name="period"),
    )


SETTLEMENT_RULES = ("net_banking", "gross")


class SolarPlant(db.Model):  # type: ignore[name-defined,misc]
    """A rooftop (or ground) solar plant behind a net-metered consumer's meter."""

    __tablename__ = "solar_plants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"), index=True)
    capacity_kwp: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    commissioning_date: Mapped[date] = mapped_column(Date)
    inverter_make: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)

    __table_args__ = (CheckConstraint("capacity_kwp > 0", name="kwp_positive"),)


class NetMeteringAgreement(db.Model):  # type: ignore[name-defined,misc]
    """The consumer's net-metering agreement for a plant, in force on days [valid_from, valid_to).

    `net_banking`: export offsets import per TOD zone each month, surplus is banked and carried
    forward, and what is left at the end of the settlement year (starting in
    `settlement_start_month`) is paid at `surplus_rate` (Rs/kWh). `gross`: every kWh exported is
    paid at `surplus_rate`, import is billed in full, nothing is banked.
    """

    __tablename__ = "net_metering_agreements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_number: Mapped[str] = mapped_column(String(32), unique=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("consumers.id"), index=True)
    plant_id: Mapped[int] = mapped_column(ForeignKey("solar_plants.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    settlement_rule: Mapped[str] = mapped_column(String(16))
    settlement_start_month: Mapped[int] = mapped_column(Integer, default=4)
    surplus_rate: Mapped[Decimal] = mapped_column(Numeric(8, 4), default=Decimal(0))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now, onupdate=_now)

    __table_args__ = (
        CheckConstraint(f"settlement_rule IN {SETTLEMENT_RULES}", name="settlement_rule"),
        CheckConstraint("settlement_start_month BETWEEN 1 AND 12", name="settlement_month"),
        CheckConstraint("surplus_rate >= 0", name="surplus_rate_nonneg"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period"),
    )
