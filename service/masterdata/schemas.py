"""Marshmallow schemas: one `XRow` per upserted entity (what billing sends), `XRead` for answers.

Row schemas mirror every database constraint (lengths, enums, ranges, decimal places) so a bad
row is a reject with marshmallow's message, never a database error. Decimals are quantized to
the column's places, so a repeat of the same data compares equal and changes nothing.
Naive timestamps are read as Indian Standard Time, the billing system's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from service.masterdata.models import (
    COMMUNICATION,
    CONNECTION_TYPES,
    FEEDER_TYPES,
    LANGUAGES,
    METER_CLASSES,
    ORG_LEVELS,
    SETTLEMENT_RULES,
    SUPPLY_STATUSES,
    TARIFF_CATEGORIES,
)

IST = ZoneInfo("Asia/Kolkata")


def _code(max_length: int = 32, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


def _text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


def _decimal(places: int, digits: int, minimum: Decimal | None = None, **kwargs: Any) -> fields.Decimal:
    """A NUMERIC(digits, places) column: quantized, finite, within range."""
    maximum = Decimal(10) ** (digits - places) - Decimal(1).scaleb(-places)
    rng = validate.Range(min=minimum, max=maximum)
    return fields.Decimal(places=places, validate=rng, **kwargs)


# Plausible dates: nothing in a discom's records is older than 1950, and nothing takes effect
# more than a year ahead. Year 1 passed once, and every listing touching the row failed (its
# UTC conversion underflows); year 2999 passed too.
EARLIEST_DATE = date(1950, 1, 1)
AHEAD = timedelta(days=366)
LATEST_EXPIRY = date(2100, 1, 1)  # warranty ends and the like may lie decades ahead


def _plausible_date(latest: Callable[[], date]) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        # The date as written (no conversion: year 1 at +05:30 lies before datetime.min in UTC).
        day = value.date() if isinstance(value, datetime) else value
        if not EARLIEST_DATE <= day <= latest():
            raise ValidationError(
                f"Not a plausible date: {day.isoformat()} (from {EARLIEST_DATE} to {latest()})."
            )

    return check


def _within_a_year() -> date:
    return datetime.now(IST).date() + AHEAD


def _when(**kwargs: Any) -> fields.AwareDateTime:
    return fields.AwareDateTime(default_timezone=IST, validate=_plausible_date(_within_a_year), **kwargs)


def _day(latest: Callable[[], date] = _within_a_year, **kwargs: Any) -> fields.Date:
    return fields.Date(validate=_plausible_date(latest), **kwargs)


class _Row(Schema):
    class Meta:
        unknown = RAISE


# Org-unit codes become materialised paths ("/MPCZ/BPL/"), matched by prefix in every scope
# check: a safe alphabet keeps '/', LIKE wildcards and spaces out of them.
ORG_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.-]*$"
_ORG_CODE = validate.Regexp(
    ORG_CODE_PATTERN, error="Only letters, digits, '-' and '.' (starting with a letter or digit)."
)


def _org_code(**kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(min=1, max=32), _ORG_CODE], **kwargs)


class OrgUnitRow(_Row):
    code = _org_code(required=True)
    name = _text(200, required=True)
    level = fields.String(required=True, validate=validate.OneOf(ORG_LEVELS))
    parent_code = _org_code(allow_none=True)

    @validates_schema
    def _parent_by_level(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("level") == "discom" and data.get("parent_code"):
            raise ValidationError("A discom has no parent.", field_name="parent_code")
        if data.get("level") not in (None, "discom") and not data.get("parent_code"):
            raise ValidationError(f"Required for level {data['level']!r}.", field_name="parent_code")


class SubstationRow(_Row):
    code = _code(required=True)
    name = _text(200, required=True)
    voltage_class = _code(16, required=True)
    org_unit_code = _code(required=True)


class FeederRow(_Row):
    code = _code(required=True)
    name = _text(200, required=True)
    voltage_kv = _decimal(2, 6, Decimal("0.01"), required=True)
    feeder_type = fields.String(required=True, validate=validate.OneOf(FEEDER_TYPES))
    org_unit_code = _code(required=True)
    substation_code = _code(allow_none=True)
    effective_from = _when()


class DtrRow(_Row):
    code = _code(required=True)
    name = _text(200, required=True)
    capacity_kva = _decimal(1, 8, Decimal("0.1"), required=True)
    org_unit_code = _code(required=True)
    feeder_code = _code(allow_none=True)
    effective_from = _when()


class ConsumerRow(_Row):
    ivrs_number = _code(required=True)
    usage_point_id = _code(64, allow_none=True)
    name = _text(200, required=True)
    address = fields.String(validate=validate.Length(max=2000))
    mobile = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9]{10,15}$"))
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    connection_date = _day(allow_none=True)
    tariff_category = fields.String(required=True, validate=validate.OneOf(TARIFF_CATEGORIES))
    sanctioned_load = _decimal(3, 10, Decimal(0), required=True)
    sanctioned_load_unit = fields.String(validate=validate.OneOf(("kW", "kVA")))
    phase = fields.Integer(strict=True, validate=validate.OneOf((1, 3)))
    connection_type = fields.String(validate=validate.OneOf(CONNECTION_TYPES))
    supply_status = fields.String(validate=validate.OneOf(SUPPLY_STATUSES))
    is_prepaid = fields.Boolean()
    is_net_metered = fields.Boolean()
    essential_service = fields.Boolean()
    org_unit_code = _code(required=True)
    dtr_code = _code(allow_none=True)
    feeder_code = _code(allow_none=True)
    effective_from = _when()

    @validates_schema
    def _one_supply_parent(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("dtr_code") and data.get("feeder_code"):
            raise ValidationError(
                "Give dtr_code (LT) or feeder_code (HT), not both.", field_name="feeder_code"
            )


class MeterRow(_Row):
    serial_number = _code(40, required=True)
    make = _text(80, required=True)
    model = _text(80, allow_none=True)
    meter_class = fields.String(required=True, validate=validate.OneOf(METER_CLASSES))
    meter_constant = _decimal(2, 10, Decimal(0), allow_none=True)
    multiplying_factor = _decimal(4, 12, Decimal("0.0001"))
    ct_ratio = _text(16, allow_none=True)
    pt_ratio = _text(16, allow_none=True)
    display_digits = fields.Integer(strict=True, validate=validate.Range(min=4, max=12))
    is_dlms = fields.Boolean()
    firmware = _text(40, allow_none=True)
    rating = _text(24, allow_none=True)
    po_date = _day(allow_none=True)
    warranty_end = _day(lambda: LATEST_EXPIRY, allow_none=True)
    communication = fields.String(validate=validate.OneOf(COMMUNICATION))
    hes_code = _text(32, allow_none=True)
    org_unit_code = _code(required=True)


def _register_read(**kwargs: Any) -> fields.Decimal:
    """A meter register read, NUMERIC(14, 3), never negative."""
    return _decimal(3, 14, Decimal(0), **kwargs)


class InstallationRow(_Row):
    meter_serial = _code(40, required=True)
    ivrs_number = _code(allow_none=True)
    feeder_code = _code(allow_none=True)
    dtr_code = _code(allow_none=True)
    installed_at = _when(required=True)
    removed_at = _when(allow_none=True)
    initial_kwh = _register_read()
    initial_kvah = _register_read(allow_none=True)
    final_kwh = _register_read(allow_none=True)
    final_kvah = _register_read(allow_none=True)
    # Final reads of the meter's previous open installation, which this row closes.
    previous_final_kwh = _register_read()
    previous_final_kvah = _register_read()

    @validates_schema
    def _one_target_and_period(self, data: dict[str, Any], **_: Any) -> None:
        targets = [f for f in ("ivrs_number", "feeder_code", "dtr_code") if data.get(f)]
        if len(targets) != 1:
            raise ValidationError(
                "Give exactly one of ivrs_number, feeder_code, dtr_code.", field_name="ivrs_number"
            )
        removed, installed = data.get("removed_at"), data.get("installed_at")
        if removed is not None and installed is not None and removed < installed:
            raise ValidationError("Must not be before installed_at.", field_name="removed_at")


class SolarPlantRow(_Row):
    code = _code(required=True)
    ivrs_number = _code(required=True)
    capacity_kwp = _decimal(3, 8, Decimal("0.001"), required=True)
    commissioning_date = _day(required=True)
    inverter_make = _text(80, required=True)


class NetMeteringAgreementRow(_Row):
    agreement_number = _code(required=True)
    ivrs_number = _code(required=True)
    plant_code = _code(required=True)
    valid_from = _day(required=True)
    valid_to = _day(lambda: LATEST_EXPIRY, allow_none=True)
    settlement_rule = fields.String(required=True, validate=validate.OneOf(SETTLEMENT_RULES))
    settlement_start_month = fields.Integer(strict=True, validate=validate.Range(min=1, max=12))
    surplus_rate = _decimal(4, 8, Decimal(0))

    @validates_schema
    def _period(self, data: dict[str, Any], **_: Any) -> None:
        start, end = data.get("valid_from"), data.get("valid_to")
        if start is not None and end is not None and end <= start:
            raise ValidationError("Must be after valid_from.", field_name="valid_to")


# --- answers ---------------------------------------------------------------------------------


class RejectRead(Schema):
    index = fields.Integer()
    key = fields.String(allow_none=True)
    field = fields.String(allow_none=True)
    reason = fields.String()


class UpsertResultRead(Schema):
    entity = fields.String()
    received = fields.Integer()
    accepted = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.List(fields.Nested(RejectRead))


class ListQuery(Schema):
    """Query parameters of a listing; a filter that does not apply to the entity is a 400."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    q = fields.String(validate=validate.Length(min=1, max=100))
    org_unit = _code()
    updated_since = _when()
    level = fields.String(validate=validate.OneOf(ORG_LEVELS))
    tariff_category = fields.String(validate=validate.OneOf(TARIFF_CATEGORIES))
    supply_status = fields.String(validate=validate.OneOf(SUPPLY_STATUSES))
    connection_type = fields.String(validate=validate.OneOf(CONNECTION_TYPES))
    is_prepaid = fields.Boolean()
    meter_class = fields.String(validate=validate.OneOf(METER_CLASSES))
    hes_code = _code()
    feeder_type = fields.String(validate=validate.OneOf(FEEDER_TYPES))
    feeder_code = _code()
    dtr_code = _code()
    meter_serial = _code(40)
    ivrs_number = _code()
    open_only = fields.Boolean()
    settlement_rule = fields.String(validate=validate.OneOf(SETTLEMENT_RULES))


class _Read(Schema):
    updated_at = fields.DateTime()


class OrgUnitRead(_Read):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent_code = fields.String(allow_none=True)
    path = fields.String()


class SubstationRead(_Read):
    code = fields.String()
    name = fields.String()
    voltage_class = fields.String()
    org_unit_code = fields.String()


class FeederRead(_Read):
    code = fields.String()
    name = fields.String()
    voltage_kv = fields.Decimal(as_string=True)
    feeder_type = fields.String()
    org_unit_code = fields.String()
    substation_code = fields.String(allow_none=True)
    linked_since = fields.DateTime(allow_none=True)


class DtrRead(_Read):
    code = fields.String()
    name = fields.String()
    capacity_kva = fields.Decimal(as_string=True)
    org_unit_code = fields.String()
    feeder_code = fields.String(allow_none=True)
    linked_since = fields.DateTime(allow_none=True)


class ConsumerRead(_Read):
    ivrs_number = fields.String()
    usage_point_id = fields.String(allow_none=True)
    name = fields.String()
    address = fields.String()
    mobile = fields.String(allow_none=True)
    language = fields.String()
    connection_date = fields.Date(allow_none=True)
    tariff_category = fields.String()
    sanctioned_load = fields.Decimal(as_string=True)
    sanctioned_load_unit = fields.String()
    phase = fields.Integer()
    connection_type = fields.String()
    supply_status = fields.String()
    is_prepaid = fields.Boolean()
    is_net_metered = fields.Boolean()
    essential_service = fields.Boolean()
    org_unit_code = fields.String()
    dtr_code = fields.String(allow_none=True)
    feeder_code = fields.String(allow_none=True)
    linked_since = fields.DateTime(allow_none=True)


class MeterRead(_Read):
    serial_number = fields.String()
    make = fields.String()
    model = fields.String(allow_none=True)
    meter_class = fields.String()
    meter_constant = fields.Decimal(as_string=True, allow_none=True)
    multiplying_factor = fields.Decimal(as_string=True)
    ct_ratio = fields.String(allow_none=True)
    pt_ratio = fields.String(allow_none=True)
    display_digits = fields.Integer()
    is_dlms = fields.Boolean()
    firmware = fields.String(allow_none=True)
    rating = fields.String(allow_none=True)
    po_date = fields.Date(allow_none=True)
    warranty_end = fields.Date(allow_none=True)
    communication = fields.String()
    hes_code = fields.String(allow_none=True)
    org_unit_code = fields.String()


class InstallationRead(_Read):
    key = fields.String()
    meter_serial = fields.String()
    ivrs_number = fields.String(allow_none=True)
    feeder_code = fields.String(allow_none=True)
    dtr_code = fields.String(allow_none=True)
    installed_at = fields.DateTime()
    removed_at = fields.DateTime(allow_none=True)
    initial_kwh = fields.Decimal(as_string=True)
    initial_kvah = fields.Decimal(as_string=True, allow_none=True)
    final_kwh = fields.Decimal(as_string=True, allow_none=True)
    final_kvah = fields.Decimal(as_string=True, allow_none=True)


class SolarPlantRead(_Read):
    code = fields.String()
    ivrs_number = fields.String()
    capacity_kwp = fields.Decimal(as_string=True)
    commissioning_date = fields.Date()
    inverter_make = fields.String()


class NetMeteringAgreementRead(_Read):
    agreement_number = fields.String()
    ivrs_number = fields.String()
    plant_code = fields.String()
    valid_from = fields.Date()
    valid_to = fields.Date(allow_none=True)
    settlement_rule = fields.String()
    settlement_start_month = fields.Integer()
    surplus_rate = fields.Decimal(as_string=True)
