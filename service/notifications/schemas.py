"""marshmallow schemas of the notifications API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from service.notifications.models import STATUSES

KEY = validate.Regexp(r"^[A-Za-z0-9_.:\-/]+$", error="letters, digits and _ . : - / only")


class NotificationQuery(Schema):
    consumer = fields.String(validate=validate.Length(min=1, max=32), metadata={"description": "IVRS number"})
    status = fields.String(validate=validate.OneOf(STATUSES))
    type = fields.String(validate=validate.Length(min=1, max=32))
    date = fields.Date(metadata={"description": "created on this day (India time)"})
    before_id = fields.Integer(validate=validate.Range(min=1))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class NotificationRead(Schema):
    id = fields.Integer()
    recipient_kind = fields.String()
    consumer_id = fields.Integer(allow_none=True)
    consumer_ivrs = fields.String(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    message_type = fields.String()
    language = fields.String()
    channels = fields.List(fields.String())
    channel = fields.String(allow_none=True)
    priority = fields.String()
    status = fields.String()
    body = fields.String()
    sms_segments = fields.Integer()
    provider = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    provider_status = fields.String(allow_none=True)
    attempts = fields.Integer()
    error = fields.String(allow_none=True)
    dedupe_key = fields.String()
    created_at = fields.DateTime()
    next_attempt_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)


class DeviceCreate(Schema):
    consumer = fields.String(required=True, validate=validate.Length(min=1, max=32))
    token = fields.String(required=True, validate=validate.Length(min=20, max=512))
    platform = fields.String(load_default="android", validate=validate.OneOf(("android", "ios", "web")))


class OtpCreate(Schema):
    purpose = fields.String(required=True, validate=[validate.Length(min=1, max=64), KEY])
    object = fields.String(required=True, validate=[validate.Length(min=1, max=128), KEY])


class OtpVerify(OtpCreate):
    code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$", error="six digits"))


class OptOutUpdate(Schema):
    consumer = fields.String(required=True, validate=validate.Length(min=1, max=32))
    opted_out = fields.Boolean(required=True)
