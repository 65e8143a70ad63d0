"""A unit of work per entry point: with Redis unreachable, accepted work is committed once and
answered 2xx; the sweeps deliver the jobs once Redis is back."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, text

from integrations.billing.client import sign
from service import create_app
from service.config import Config
from service.extensions import db
from service.unit_of_work import after_commit, unit_of_work
from tests.processes.conftest import BILLING_SECRET, FLAKY, TEST_PROCESSES

SAMPLES = Path(__file__).resolve().parent / "integrations" / "samples"
JSON = {"Content-Type": "application/json"}


def _closed_port() -> int:
    """A loopback port nothing listens on: connections to it are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_down_app(app: Flask, test_config: Config) -> Iterator[Flask]:
    """The same database, with Redis at an address where no Redis listens."""
    from service.processes.library import workflows
    from service.processes.operations import register_operation

    register_operation("test.flaky", FLAKY, backoff_seconds=0)

    down = create_app(test_config.with_(redis_url=f"redis://127.0.0.1:{_closed_port()}/0"))
    with down.app_context():
        workflows(down).add_directory(TEST_PROCESSES)
    from tests.conftest import IsolatedClient

    down.test_client_class = IsolatedClient
    yield down


@pytest.fixture
def discom(app: Flask) -> Any:
    from service.masterdata.demo import seed_masterdata, seed_users

    summary = seed_masterdata(db.session(), consumers=50, seed=7)
    seed_users(db.session(), summary)
    db.session.commit()
    return summary


def _grid(session: Any) -> None:
    from service.masterdata.models import Meter, OrgUnit

    org = session.execute(
        insert(OrgUnit).values(code="T", name="T", level="discom", path="/T/").returning(OrgUnit.id)
    ).scalar_one()
    for serial in ("S00000201", "S00000202"):
        session.execute(
            insert(Meter).values(serial_number=serial, make="HPL", meter_class="smart_1ph", org_unit_id=org)
        )
    session.commit()


def _webhook(request_id: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "type": "inspection.requested",
            "data": {
                "request_id": request_id,
                "org_unit_code": "BPLC-D1-S1-DC1",
                "ivrs_number": "N0000001",
                "reason": "tamper",
            },
        }  # fmt: skip
    ).encode()
    timestamp = str(int(time.time()))
    return body, {
        "Content-Type": "application/json",
        "X-CMDMS-Timestamp": timestamp,
        "X-CMDMS-Signature": sign(BILLING_SECRET, timestamp, body),
        "Idempotency-Key": f"evt-{request_id}",
    }


def _count(sql: str) -> int:
    return int(db.session.execute(text(sql)).scalar_one())


def test_with_redis_unreachable_ingest_and_webhook_answer_2xx_and_sweeps_deliver_later(
    redis_down_app: Flask,
    discom: Any,
    make_api_key: Callable[..., dict[str, str]],
    run_jobs: Callable[..., int],
) -> None:
    _grid(db.session)
    FLAKY.failures, FLAKY.calls = 0, []
    writer = make_api_key("readings:write", system="hes-a")
    starter = make_api_key("workflows:write", system="billing")
    down = redis_down_app.test_client()

    ingest = down.post("/api/v1/hes/readings", data=(SAMPLES / "hes_readings.json").read_bytes(),
                       headers={**writer, **JSON})  # fmt: skip
    body, headers = _webhook("INSP-7001")
    hook = down.post("/api/v1/webhooks/billing", data=body, headers=headers)
    start = down.post("/api/v1/processes", json={"process_id": "service_call", "business_key": "SC-1",
                      "org_unit_code": "BPLC-D1-S1-DC1", "data": {"label": "x"}}, headers=starter)  # fmt: skip

    assert (ingest.status_code, hook.status_code, start.status_code) == (200, 201, 201), (
        ingest.get_json(), hook.get_json(), start.get_json())  # fmt: skip
    db.session.rollback()
    assert _count("SELECT count(*) FROM ingest_batches WHERE status = 'stored'") == 1
    assert _count("SELECT count(*) FROM process_instances WHERE business_key = 'INSP-7001'") == 1
    assert _count("SELECT count(*) FROM outbox WHERE status = 'pending'") == 1
    stored = _count("SELECT count(*) FROM interval_readings")
    assert stored > 0

    # The sender retries because it did not trust the first answer: nothing is stored twice.
    again = down.post("/api/v1/webhooks/billing", data=body, headers=headers)
    assert again.status_code == 201 and again.get_json()["replayed"] is True
    assert _count("SELECT count(*) FROM process_instances WHERE business_key = 'INSP-7001'") == 1

    # Redis is back (the test app's own): nothing reached RQ, the sweeps find it in the tables.
    from service.outbox.jobs import sweep
    from service.readings.jobs import requeue_stored_batches

    assert run_jobs() == 0
    assert sweep() == 1
    assert requeue_stored_batches(now=datetime.now(UTC) + timedelta(hours=1)) == 1
    run_jobs()
    db.session.rollback()
    assert _count("SELECT count(*) FROM ingest_batches WHERE status = 'validated'") == 1
    assert _count("SELECT count(*) FROM outbox WHERE status = 'done'") == 1
    assert [c["params"] for c in FLAKY.calls] == [{"label": "x"}]
    assert _count("SELECT count(*) FROM interval_readings") == stored


def _note(session: Any, action: str) -> None:
    session.execute(
        text(
            "INSERT INTO audit_log (actor_kind, actor, action, entity, entity_key) VALUES ('cli', 't', :a, 'x', '1')"
        ),
        {"a": action},
    )


def test_unit_of_work_rolls_back_unless_committed(app: Flask) -> None:
    with unit_of_work(db.session) as uow:
        _note(uow.session, "uncommitted")
    assert _count("SELECT count(*) FROM audit_log") == 0
    with pytest.raises(ZeroDivisionError), unit_of_work(db.session) as uow:
        _note(uow.session, "failed")
        uow.commit()  # the part before the failure is committed; what follows it is not
        _note(uow.session, "after")
        _ = 1 / 0
    assert db.session.execute(text("SELECT action FROM audit_log")).scalars().all() == ["failed"]


def test_after_commit_effects_run_once_after_commit_and_never_raise(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise ConnectionError("Redis is down")

    with unit_of_work(db.session) as uow:
        after_commit(uow.session, lambda: ran.append("first"))
        after_commit(uow.session, broken)
        after_commit(uow.session, lambda: ran.append("after the broken one"))
        assert ran == []
        uow.commit()
    assert ran == ["first", "after the broken one"]
    assert "Redis is down" in caplog.text
    with unit_of_work(db.session) as uow:
        after_commit(uow.session, lambda: ran.append("rolled back"))
    with unit_of_work(db.session) as uow:
        uow.commit()
    assert ran == ["first", "after the broken one"]


def test_effects_of_a_rolled_back_savepoint_are_dropped_and_the_others_kept(app: Flask) -> None:
    ran: list[str] = []
    with unit_of_work(db.session) as uow:
        after_commit(uow.session, lambda: ran.append("outer"))
        savepoint = uow.session.begin_nested()
        after_commit(uow.session, lambda: ran.append("inner"))
        savepoint.rollback()
        uow.commit()
    assert ran == ["outer"]
