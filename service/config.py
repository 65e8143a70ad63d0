"""Settings from the environment: the only module that reads os.environ."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Config:
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str = "dev-only-change-me"  # noqa: S105 - set CMDMS_SECRET_KEY in production
    var_dir: Path = Path("var")
    testing: bool = False
    # Web sessions: cookies are Secure in production; the demo runs on plain http.
    session_cookie_secure: bool = False
    # AMR drop folder (today the discom's FTP target).
    amr_drop_dir: Path = Path("var/amr-drop")
    # Max accepted request body, bytes (XML files from AMR can be a few MB).
    max_content_length: int = 32 * 1024 * 1024
    # Webhook secrets per system, "billing=s3cr3t,hes=..."
    webhook_secrets: Mapping[str, str] = field(default_factory=dict)
    # Outside systems (empty = not configured).
    billing_url: str = ""
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_base_url: str = ""
    sms_gateway_url: str = ""
    # DLT gateway (notifications/sms_http.py): registered sender id (header), entity id, key.
    sms_gateway_sender_id: str = ""
    sms_gateway_entity_id: str = ""
    sms_gateway_api_key: str = ""
    fcm_project_id: str = ""
    fcm_url: str = ""
    # FCM credential: a service-account JSON file, or an access token minted elsewhere.
    fcm_credentials_file: str = ""
    fcm_access_token: str = ""
    # Sending policy and templates (defaults: notifications/policy.yaml, notifications/templates).
    notifications_policy_file: str = ""
    notifications_templates_dir: str = ""
    # IEC 61968-9 EndDeviceEventType -> IS 15959 mapping (default: integrations/cim/event_types.csv).
    cim_event_types_file: str = ""
    public_base_url: str = "http://127.0.0.1:5000"
    timezone: str = "Asia/Kolkata"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_(self, **changes: Any) -> Config:
        return replace(self, **changes)


_ENV = {
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "secret_key": "CMDMS_SECRET_KEY",
    "var_dir": "CMDMS_VAR_DIR",
    "session_cookie_secure": "CMDMS_SECURE_COOKIES",
    "amr_drop_dir": "CMDMS_AMR_DROP_DIR",
    "max_content_length": "CMDMS_MAX_CONTENT_LENGTH",
    "webhook_secrets": "CMDMS_WEBHOOK_SECRETS",
    "billing_url": "CMDMS_BILLING_URL",
    "twilio_account_sid": "TWILIO_ACCOUNT_SID",
    "twilio_auth_token": "TWILIO_AUTH_TOKEN",
    "twilio_from_number": "TWILIO_FROM_NUMBER",
    "twilio_base_url": "TWILIO_BASE_URL",
    "sms_gateway_url": "CMDMS_SMS_GATEWAY_URL",
    "sms_gateway_sender_id": "CMDMS_SMS_GATEWAY_SENDER_ID",
    "sms_gateway_entity_id": "CMDMS_SMS_GATEWAY_ENTITY_ID",
    "sms_gateway_api_key": "CMDMS_SMS_GATEWAY_API_KEY",
    "fcm_project_id": "FCM_PROJECT_ID",
    "fcm_url": "FCM_URL",
    "fcm_credentials_file": "FCM_CREDENTIALS_FILE",
    "fcm_access_token": "FCM_ACCESS_TOKEN",
    "notifications_policy_file": "CMDMS_NOTIFICATIONS_POLICY",
    "cim_event_types_file": "CMDMS_CIM_EVENT_TYPES",
    "notifications_templates_dir": "CMDMS_NOTIFICATIONS_TEMPLATES",
    "public_base_url": "CMDMS_PUBLIC_BASE_URL",
}


def _parse(name: str, env_name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{env_name}: expected a boolean, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{env_name}: expected an integer, got {raw!r}") from None
    if isinstance(default, Path):
        return Path(raw)
    if name == "webhook_secrets":
        secrets: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in raw.split(","))):
            system, sep, secret = part.partition("=")
            if not sep or not system or not secret:
                raise ConfigError(f"{env_name}: expected system=secret pairs, got {part!r}")
            secrets[system] = secret
        return secrets
    if name in ("database_url", "redis_url"):
        if raw and "://" not in raw:
            raise ConfigError(f"{env_name}: expected a URL, got {raw!r}")
        return raw or None
    return raw


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from the environment (or the mapping given)."""
    env = os.environ if environ is None else environ
    defaults = Config()
    values: dict[str, Any] = {}
    for f in fields(Config):
        env_name = _ENV.get(f.name)
        if env_name and env_name in env:
            values[f.name] = _parse(f.name, env_name, env[env_name], getattr(defaults, f.name))
    config = replace(defaults, **values)
    if "CMDMS_VAR_DIR" in env and "CMDMS_AMR_DROP_DIR" not in env:
        config = replace(config, amr_drop_dir=config.var_dir / "amr-drop")
    return config


def child_environment(overrides: Mapping[str, str]) -> dict[str, str]:
    """The environment for a child process (the demo's worker): ours plus `overrides`."""
    return {**os.environ, **overrides}
