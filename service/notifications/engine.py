"""The notification engine of this app: policy, templates and the channel adapters (ports)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from notifications.channels import PushSender, SmsSender
from notifications.console import ConsolePush, ConsoleSms
from notifications.policy import POLICY_FILE, Policy, load_policy
from notifications.templates import TEMPLATES_DIR, TemplateBook, load_templates
from service.config import Config

EXTENSION_KEY = "cmdms.notifications"
STATUS_CALLBACK_PATH = "/api/v1/notifications/twilio/status"


@dataclass
class NotificationEngine:
    policy: Policy
    templates: TemplateBook
    sms: SmsSender | None
    sms_http: SmsSender | None
    push: PushSender | None
    secret_key: str
    twilio_auth_token: str = ""

    def sms_sender(self, channel: str) -> SmsSender | None:
        return {"sms": self.sms, "sms_http": self.sms_http, "console": self.sms}.get(channel)


def build_engine(config: Config, ports: Mapping[str, Any]) -> NotificationEngine:
    """Ports passed to create_app win; otherwise adapters are built from configuration."""
    policy = load_policy(Path(config.notifications_policy_file or POLICY_FILE))
    templates = load_templates(
        Path(config.notifications_templates_dir or TEMPLATES_DIR), max_segments=policy.max_segments
    )
    return NotificationEngine(
        policy=policy,
        templates=templates,
        sms=ports.get("sms") or _twilio(config) or ConsoleSms(),
        sms_http=ports.get("sms_http") or _gateway(config),
        push=ports.get("push") or _fcm(config) or ConsolePush(),
        secret_key=config.secret_key,
        twilio_auth_token=config.twilio_auth_token,
    )


def _twilio(config: Config) -> SmsSender | None:
    if not config.twilio_account_sid:
        return None
    from notifications.sms_twilio import TwilioSms

    return TwilioSms(
        config.twilio_account_sid,
        config.twilio_auth_token,
        config.twilio_from_number,
        base_url=config.twilio_base_url,
        status_callback_url=config.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH,
    )


def _gateway(config: Config) -> SmsSender | None:
    if not config.sms_gateway_url:
        return None
    from notifications.sms_http import HttpGatewaySms

    return HttpGatewaySms(
        config.sms_gateway_url,
        config.sms_gateway_sender_id,
        entity_id=config.sms_gateway_entity_id,
        api_key=config.sms_gateway_api_key,
    )


def _fcm(config: Config) -> PushSender | None:
    if not config.fcm_project_id or not (config.fcm_credentials_file or config.fcm_access_token):
        return None
    from notifications.push_fcm import FcmPush

    return FcmPush(
        config.fcm_project_id,
        service_account_file=config.fcm_credentials_file,
        access_token=config.fcm_access_token,
        fcm_url=config.fcm_url,
    )


def engine_of(app: Flask) -> NotificationEngine:
    engine: NotificationEngine = app.extensions[EXTENSION_KEY]
    return engine


def current_engine() -> NotificationEngine:
    return engine_of(current_app)
