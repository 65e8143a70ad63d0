"""Channels chosen by configuration: adapters from settings, channel per message type from policy."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from notifications.console import ConsolePush, ConsoleSms
from notifications.policy import POLICY_FILE, load_policy
from notifications.sms_http import HttpGatewaySms
from notifications.sms_twilio import TwilioSms
from service.audit.models import AuditEntry
from service.config import Config, load_config
from service.notifications import notify
from service.notifications.engine import build_engine
from service.notifications.models import Notification, NotificationOptOut
from tests.notifications.standins import DltGatewayStandIn

DAY = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def test_adapters_are_built_from_settings(tmp_path):
    config = load_config(
        {
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "TWILIO_AUTH_TOKEN": "t",
            "TWILIO_FROM_NUMBER": "+15005550006",
            "CMDMS_SMS_GATEWAY_URL": "http://127.0.0.1:9/sms",
            "CMDMS_SMS_GATEWAY_SENDER_ID": "CMDMSB",
        }
    )
    engine = build_engine(config, {})
    assert isinstance(engine.sms, TwilioSms)
    assert isinstance(engine.sms_http, HttpGatewaySms) and engine.sms_http.sender_id == "CMDMSB"
    assert isinstance(engine.push, ConsolePush)  # FCM not configured: the demo's console


def test_without_providers_the_console_channels_serve_the_demo():
    engine = build_engine(Config(), {})
    assert isinstance(engine.sms, ConsoleSms) and engine.sms_http is None


def test_ports_given_to_create_app_win_over_settings():
    port = ConsoleSms()
    engine = build_engine(Config(twilio_account_sid="AC" + "1" * 32), {"sms": port})
    assert engine.sms is port


def test_message_type_routed_to_the_dlt_gateway_by_policy(session, engine, make_consumer, run_jobs):
    import yaml

    data = yaml.safe_load(POLICY_FILE.read_text())
    data["message_types"]["planned_outage"]["channels"] = ["sms_http"]
    engine.policy = load_policy(data=data)
    gateway = DltGatewayStandIn("CMDMSB", {"1107170000000000101"}).start()
    try:
        engine.sms_http = HttpGatewaySms(f"{gateway.url}/sms", "CMDMSB")
        consumer = make_consumer()
        sent = notify(
            session,
            consumer_id=consumer,
            message_type="planned_outage",
            params={"area": "Kolar", "start": "10:00", "end": "12:00"},
            dedupe_key="o:1",
            now=DAY,
        )
        session.commit()
        run_jobs("default")
    finally:
        gateway.stop()
    n = session.get(Notification, sent.notification_id)
    assert (n.status, n.channel, n.provider) == ("sent", "sms_http", "http")
    assert gateway.messages[0]["dlt_template_id"] == "1107170000000000101"


def test_ccc_records_an_opt_out_with_an_audit_entry(client, session, engine, make_consumer, make_api_key):
    consumer = make_consumer()
    session.commit()
    headers = make_api_key("notifications:write")
    reply = client.put(
        "/api/v1/notifications/opt-out", json={"consumer": "N000000001", "opted_out": True}, headers=headers
    )
    assert reply.status_code == 200 and reply.get_json() == {"consumer": "N000000001", "opted_out": True}
    assert session.get(NotificationOptOut, consumer).source == "billing"
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "notification_opt_out")).one()
    assert (audit.before, audit.after) == ({"opted_out": False}, {"opted_out": True})
    back = client.put(
        "/api/v1/notifications/opt-out", json={"consumer": "N000000001", "opted_out": False}, headers=headers
    )
    assert back.status_code == 200
    session.expire_all()
    assert session.get(NotificationOptOut, consumer) is None
    bad = client.put(
        "/api/v1/notifications/opt-out",
        json={"consumer": "N000000001", "opted_out": "maybe"},
        headers=headers,
    )
    assert bad.status_code == 422 and set(bad.get_json()["errors"]["json"]) == {"opted_out"}
