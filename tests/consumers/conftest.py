"""The consumption fixtures (RC1 with meters RA then RB, RC2, scalar RC3, on BPLC-D1) and events."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from integrations.canonical import CanonicalBatch
from integrations.parsing import EventBuilder, now_epoch
from tests.consumption.conftest import (  # noqa: F401  (shared fixtures)
    ACTOR,
    _rules_from_repository,
    discom,
    ingest_and_validate,
    loaded,
    people,
)
from tests.notifications.conftest import engine, sms_only, twilio  # noqa: F401  (shared fixtures)
from tests.notifications.standins import TwilioStandIn


@pytest.fixture
def store_events(session: Any) -> Callable[[list[tuple[str, int, datetime, datetime | None]]], None]:
    """Meter events (meter, IS 15959 code, occurred, restored) through the one ingest path."""
    from service.readings.ingest import ingest_batch

    def store(rows: list[tuple[str, int, datetime, datetime | None]]) -> None:
        events = EventBuilder()
        for i, (meter, code, occurred, restored) in enumerate(rows):
            events.add(f"[{i}]", meter, code, int(occurred.timestamp()),
                       int(restored.timestamp()) if restored else None)  # fmt: skip
        batch = CanonicalBatch(source="hes:TEST")
        batch.events = events.build(batch.rejects, now_epoch())
        result = ingest_batch(session(), batch, actor=ACTOR)
        assert not result.rejects, result.rejects
        session.commit()

    return store


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 17:30 IST, Friday 20 Nov 2026 ("today")


@pytest.fixture
def clock(app: Flask) -> Iterator[list[datetime]]:
    """The app's clock port, set by the test (a one-item list the test may move)."""
    now = [NOW]
    ports = app.extensions["cmdms.ports"]
    ports["clock"] = lambda: now[0]
    yield now
    ports["clock"] = None


@dataclass
class AppSignIn:
    """Signs consumers in through the API, reading the code from the SMS the stand-in received."""

    client: FlaskClient
    twilio: TwilioStandIn
    run_jobs: Callable[..., int]

    def request_code(self, ivrs: str) -> Any:
        return self.client.post("/api/v1/consumer/otp", json={"ivrs": ivrs})

    def last_code(self, mobile: str) -> str:
        self.run_jobs("urgent")
        bodies = [m["Body"] for m in self.twilio.messages if m["To"] == mobile]
        assert bodies, f"no SMS to {mobile}"
        match = re.match(r"^(\d{6}) ", bodies[-1])
        assert match, bodies[-1]
        return match.group(1)

    def sign_in(self, ivrs: str, code: str) -> Any:
        return self.client.post("/api/v1/consumer/sessions", json={"ivrs": ivrs, "otp": code})

    def headers(self, ivrs: str, mobile: str) -> dict[str, str]:
        assert self.request_code(ivrs).status_code == 202
        answer = self.sign_in(ivrs, self.last_code(mobile))
        assert answer.status_code == 201, answer.get_json()
        return {"Authorization": f"Bearer {answer.get_json()['token']}"}


@pytest.fixture
def app_sign_in(
    client: FlaskClient,
    sms_only: Any,  # noqa: F811  (the shared fixture, imported above)
    twilio: TwilioStandIn,  # noqa: F811
    run_jobs: Callable[..., int],
    clock: list[datetime],
) -> AppSignIn:
    return AppSignIn(client, twilio, run_jobs)
