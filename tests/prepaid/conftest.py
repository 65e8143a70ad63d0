"""A small demo discom; consumers made prepaid through the package's own functions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from service.audit.log import Actor
from tests.disconnections.conftest import (  # noqa: F401
    add_hes,
    clock,
    engine,
    fcm,
    hes_sim,
    live_url,
    twilio,
    wired,
)

BILLING = Actor("system", "billing")


@pytest.fixture
def discom(session: Any) -> Any:
    from service.masterdata.demo import seed_masterdata

    summary = seed_masterdata(session(), consumers=20, seed=7)
    session.commit()
    return summary


@pytest.fixture
def consumer_ids(session: Any, discom: Any) -> list[int]:
    """Postpaid LV1/LV2 consumers of the demo discom, lowest id first."""
    session.execute(text("UPDATE consumers SET is_prepaid = false"))
    session.commit()
    return list(session.execute(text("SELECT id FROM consumers ORDER BY id")).scalars())


@pytest.fixture
def prepaid_one(session: Any, consumer_ids: list[int]) -> int:
    from service.prepaid import to_prepaid

    cid = consumer_ids[0]
    to_prepaid(session(), cid, effective_from=date(2026, 11, 1), opening_balance_inr=Decimal("500.00"),
               source_id="mig-1", actor=BILLING)  # fmt: skip
    session.commit()
    return cid
