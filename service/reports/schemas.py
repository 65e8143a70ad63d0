"""Marshmallow schemas of the reports API (the OpenAPI document is built from them)."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

from service.reports.running import MAX_PAGE_SIZE


class ReportQuery(Schema):
    class Meta:
        unknown = INCLUDE  # a report's own choice/text parameters

    period = fields.String(metadata={"description": "month YYYY-MM (reports with a month)"})
    day = fields.String(metadata={"description": "day YYYY-MM-DD (reports with a day)"})
    org_unit = fields.String(metadata={"description": "org unit code at or below the caller's"})
    level = fields.String(metadata={"description": "roll-up level: region, circle or division"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "xlsx")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    page_size = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class ColumnRead(Schema):
    key = fields.String()
    title = fields.String()
    unit = fields.String()
    kind = fields.String()


class ParamRead(Schema):
    name = fields.String()
    label = fields.String()
    kind = fields.String()
    choices = fields.List(fields.String())


class ReportRead(Schema):
    name = fields.String()
    title_en = fields.String()
    title_hi = fields.String()
    source = fields.String()
    description = fields.String()
    params = fields.List(fields.Nested(ParamRead))
    columns = fields.List(fields.Nested(ColumnRead))


class ReportResult(Schema):
    report = fields.String()
    parameters = fields.Dict(keys=fields.String(), values=fields.String())
    columns = fields.List(fields.Nested(ColumnRead))
    items = fields.List(fields.Dict(), metadata={"description": "rows; times ISO 8601 in IST (+05:30)"})
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    pages = fields.Integer()
