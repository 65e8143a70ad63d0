"""Marshmallow schemas of the asset APIs: a reported replacement, as JSON or as a CSV row."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

# Serials and IVRS numbers as billing and URJAS write them: no spaces, quotes, markup or
# spreadsheet formula leaders, so a hostile cell cannot travel on into a page or an export.
IDENTIFIER = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9/_.-]*$", error="Only letters, digits, '/', '_', '.' and '-' (no spaces)."
)
# A scalar register: six to eight display digits, never negative.
MAX_REGISTER_KWH = Decimal("99999999.999")
EARLIEST = datetime(2000, 1, 1).astimezone()


def _identifier(max_length: int) -> fields.String:
    return fields.String(required=True, validate=[validate.Length(min=1, max=max_length), IDENTIFIER])


def _reading() -> fields.Decimal:
    return fields.Decimal(
        required=True,
        places=3,
        allow_nan=False,
        validate=validate.Range(min=Decimal(0), max=MAX_REGISTER_KWH),
    )


class ReplacementCreate(Schema):
    """A meter replacement reported by billing or URJAS (`kind` "scalar"), or by the field app
    (`kind` "smart": the new meter is a smart meter, billing approves)."""

    class Meta:
        unknown = RAISE

    kind = fields.String(load_default="scalar", validate=validate.OneOf(("scalar", "smart")))
    ivrs_number = _identifier(32)
    old_meter_serial = _identifier(40)
    new_meter_serial = _identifier(40)
    replaced_at = fields.AwareDateTime(required=True)  # an offset is required: no guessing of zones
    final_kwh = _reading()
    initial_kwh = _reading()
    photo_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))

    @validates("replaced_at")
    def _plausible(self, value: datetime, **_: Any) -> None:
        if value < EARLIEST:
            raise ValidationError("Not a plausible replacement time (before 2000).")

    @validates("photo_ref")
    def _photo(self, value: str | None, **_: Any) -> None:
        if value and any(ch in value for ch in "<>\"'\x00") or (value or "").startswith(("=", "+", "-", "@")):
            raise ValidationError("A photo reference is a plain path or id.")
