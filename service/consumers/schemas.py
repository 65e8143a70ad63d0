"""marshmallow schemas of the consumer app API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

IVRS = validate.Regexp(
    r"^[A-Za-z0-9\-]{1,32}$", error="an IVRS number: letters, digits and - only, at most 32"
)


class OtpRequest(Schema):
    ivrs = fields.String(required=True, validate=IVRS)


class SignIn(Schema):
    ivrs = fields.String(required=True, validate=IVRS)
    otp = fields.String(required=True, validate=validate.Regexp(r"^\s*\d{6}\s*$", error="six digits"))


class AppDeviceCreate(Schema):
    token = fields.String(required=True, validate=validate.Length(min=20, max=512))
    platform = fields.String(load_default="android", validate=validate.OneOf(("android", "ios", "web")))


class AppPageQuery(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=100_000))
