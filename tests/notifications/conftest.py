"""Fixtures: provider stand-ins, the app's notification engine wired to them, recipients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from notifications.push_fcm import FcmPush
from notifications.sms_twilio import TwilioSms
from service.notifications.engine import NotificationEngine, engine_of
from tests.notifications.standins import FcmStandIn, TwilioStandIn

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-test-auth-token"
FCM_PROJECT = "cmdms-test"
FCM_TOKEN = "ya29.test-access-token"


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    server = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def fcm() -> Iterator[FcmStandIn]:
    server = FcmStandIn(FCM_PROJECT, FCM_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def engine(app: Flask) -> Iterator[NotificationEngine]:
    """The app's engine; ports set by a test are put back afterwards."""
    live = engine_of(app)
    saved = replace(live)
    yield live
    live.sms, live.sms_http, live.push = saved.sms, saved.sms_http, saved.push
    live.twilio_auth_token, live.policy = saved.twilio_auth_token, saved.policy


@pytest.fixture
def wired(engine: NotificationEngine, twilio: TwilioStandIn, fcm: FcmStandIn) -> Iterator[NotificationEngine]:
    """The engine sending through the real twilio and firebase-admin SDKs to the stand-ins."""
    engine.sms = TwilioSms(
        ACCOUNT_SID,
        AUTH_TOKEN,
        "+15005550006",
        base_url=twilio.url,
        status_callback_url="http://127.0.0.1:5000/api/v1/notifications/twilio/status",
    )
    push = FcmPush(FCM_PROJECT, access_token=FCM_TOKEN, fcm_url=fcm.send_url)
    engine.push = push
    engine.twilio_auth_token = AUTH_TOKEN
    yield engine
    push.close()


@pytest.fixture
def sms_only(engine: NotificationEngine, twilio: TwilioStandIn) -> NotificationEngine:
    """SMS alone through the real twilio SDK to its stand-in. For browser tests: firebase-admin's
    close (in `wired`) calls asyncio.run, which cannot run while Playwright's loop is open."""
    engine.sms = TwilioSms(ACCOUNT_SID, AUTH_TOKEN, "+15005550006", base_url=twilio.url)
    engine.twilio_auth_token = AUTH_TOKEN
    return engine


@pytest.fixture
def org_unit(session: Any) -> int:
    from service.masterdata.models import OrgUnit

    unit = OrgUnit(code="TST", name="Test discom", level="discom", path="/TST/")
    session.add(unit)
    session.flush()
    return int(unit.id)


@pytest.fixture
def make_consumer(session: Any, org_unit: int) -> Callable[..., int]:
    from service.masterdata.models import Consumer

    numbers = iter(range(1, 10_000))

    def make(language: str = "en", mobile: str | None = "9826012345", org_unit_id: int | None = None) -> int:
        n = next(numbers)
        consumer = Consumer(
            ivrs_number=f"N{n:09d}",
            name=f"Consumer {n}",
            mobile=mobile,
            language=language,
            tariff_category="LV1",
            sanctioned_load=Decimal("2.000"),
            org_unit_id=org_unit_id or org_unit,
        )
        session.add(consumer)
        session.flush()
        return int(consumer.id)

    return make


@pytest.fixture
def make_user(session: Any, org_unit: int) -> Callable[..., int]:
    from service.audit.log import CLI_ACTOR
    from service.auth.users import create_user

    def make(
        username: str = "control1", mobile: str | None = "9826099999", role: str = "control_centre"
    ) -> int:
        user = create_user(session, username, "long-enough-password", role, "TST", CLI_ACTOR, mobile=mobile)
        session.flush()
        return int(user.id)

    return make
