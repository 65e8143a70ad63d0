"""Fixtures for the master-data API: a billing key and a helper to post rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse


@pytest.fixture
def billing(make_api_key: Callable[..., dict[str, str]]) -> dict[str, str]:
    return make_api_key("masterdata:write", "masterdata:read", system="billing")


@pytest.fixture
def post_rows(client: FlaskClient, billing: dict[str, str]) -> Callable[..., TestResponse]:
    """post_rows("consumers", [...]) -> the response (billing's key unless headers are given)."""

    def post(entity: str, rows: Any, headers: dict[str, str] | None = None) -> TestResponse:
        return client.post(f"/api/v1/masterdata/{entity}", json=rows, headers=headers or billing)

    return post


def consumer_row(ivrs: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "ivrs_number": ivrs,
        "name": "Ramesh Sharma",
        "address": "H.No. 12, Arera Colony, Bhopal",
        "mobile": "9826012345",
        "tariff_category": "LV1",
        "sanctioned_load": "2.000",
        "phase": 1,
        "org_unit_code": "BPLC-D1-S1-DC1",
        "dtr_code": "DTR-0001",
        "effective_from": "2024-04-01T00:00:00+05:30",
    }
    row.update(overrides)
    return row


def meter_row(serial: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "serial_number": serial,
        "make": "Genus Power",
        "meter_class": "smart_1ph",
        "is_dlms": True,
        "communication": "cellular",
        "hes_code": "HES-A",
        "org_unit_code": "BPLC-D1-S1-DC1",
    }
    row.update(overrides)
    return row
