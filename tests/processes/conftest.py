"""Fixtures for process tests: test BPMN files loaded, a flaky operation, the billing stand-in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from integrations.billing.client import BillingClient
from integrations.billing.simulator import BillingSimulator
from service.outbox.handlers import PermanentError
from service.ports import KEY as ADAPTERS
from service.ports import adapters_of

TEST_PROCESSES = Path(__file__).resolve().parent.parent / "workflows" / "processes"
BILLING_SECRET = "billing-webhook-secret"  # tests/conftest.py configures it for "billing"


class FlakyOperation:
    """`test.flaky`: fails the next `failures` calls, then answers; records every call."""

    def __init__(self) -> None:
        self.failures = 0
        self.permanent = False
        self.calls: list[dict[str, Any]] = []

    def __call__(self, params: dict[str, Any], context: Any) -> dict[str, Any]:
        self.calls.append({"params": params, "key": context.idempotency_key, "attempt": context.attempt})
        if self.failures > 0:
            self.failures -= 1
            if self.permanent:
                raise PermanentError("the meter is unknown to the HES")
            raise ConnectionError("HES gateway timed out")
        return {"ok": True, "label": params.get("label")}


FLAKY = FlakyOperation()


@pytest.fixture
def processes_app(app: Flask) -> Iterator[Flask]:
    from service.processes.library import workflows
    from service.processes.operations import register_operation

    register_operation("test.flaky", FLAKY, backoff_seconds=0)
    wf = workflows(app)
    if TEST_PROCESSES not in wf.directories:
        wf.add_directory(TEST_PROCESSES)
    FLAKY.failures, FLAKY.permanent, FLAKY.calls = 0, False, []
    yield app


@pytest.fixture
def billing(app: Flask) -> Iterator[BillingSimulator]:
    previous = adapters_of(app)
    with BillingSimulator(BILLING_SECRET) as simulator:
        app.extensions[ADAPTERS] = replace(
            previous, billing=BillingClient(simulator.url, BILLING_SECRET, timeout_seconds=5)
        )
        yield simulator
    app.extensions[ADAPTERS] = previous


@pytest.fixture
def drain(app: Flask, run_jobs: Callable[..., int]) -> Callable[[], int]:
    """Run the outbox until nothing is due (retries with back-off 0 are due at once)."""
    from service.outbox.jobs import sweep

    def run() -> int:
        rounds = 0
        for rounds in range(1, 21):  # noqa: B007 - the count is the answer
            run_jobs("default", "urgent")
            due = sweep()
            run_jobs("default", "urgent")
            if due == 0:
                break
        return rounds

    return run


@pytest.fixture
def discom(app: Flask) -> Any:
    """Master data and demo users only: other areas' demo steps are not this area's to test."""
    from service.extensions import db
    from service.masterdata.demo import seed_masterdata, seed_users

    summary = seed_masterdata(db.session(), consumers=300, seed=7)
    seed_users(db.session(), summary)
    db.session.commit()
    return summary


@pytest.fixture
def org(app: Flask, discom: Any) -> Callable[[str], int]:
    from sqlalchemy import select

    from service.extensions import db
    from service.masterdata.models import OrgUnit

    def by_code(code: str) -> int:
        found = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))
        assert found is not None, code
        return int(found)

    return by_code
