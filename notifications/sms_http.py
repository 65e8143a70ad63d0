"""SMS through a generic HTTP gateway, as Indian DLT-registered gateways work.

TRAI's DLT rules: every commercial SMS names a registered sender id (header), the principal
entity id and the registered content template id; the gateway rejects text that does not
match the template. The request here is one JSON POST; field names are configurable because
every gateway names them differently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import requests

from notifications.channels import PermanentSendError, ProviderReceipt, RetryableSendError, to_e164


@dataclass(frozen=True)
class GatewayFields:
    to: str = "to"
    text: str = "text"
    sender: str = "sender"
    template_id: str = "dlt_template_id"
    entity_id: str = "dlt_entity_id"
    message_id: str = "message_id"  # in the reply


@dataclass
class HttpGatewaySms:
    """`SmsSender` over a DLT gateway: POST JSON, 2xx with a message id means accepted."""

    url: str
    sender_id: str
    entity_id: str = ""
    api_key: str = ""
    timeout_seconds: float = 10.0
    fields: GatewayFields = field(default_factory=GatewayFields)
    extra: Mapping[str, str] = field(default_factory=dict)
    provider = "http"

    def __post_init__(self) -> None:
        self._session = requests.Session()

    def send(self, to: str, text: str, template_id: str | None) -> ProviderReceipt:
        if not template_id:
            # A DLT gateway drops unregistered content silently; refuse it here, loudly.
            raise PermanentSendError("no DLT template id for this message type", code="dlt_template_missing")
        f = self.fields
        body = {
            **self.extra,
            f.to: to_e164(to).lstrip("+"),
            f.text: text,
            f.sender: self.sender_id,
            f.template_id: template_id,
        }
        if self.entity_id:
            body[f.entity_id] = self.entity_id
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            reply = self._session.post(self.url, json=body, headers=headers, timeout=self.timeout_seconds)
        except requests.RequestException as exc:
            raise RetryableSendError(f"gateway unreachable: {exc}", code="network") from exc
        if reply.status_code >= 500 or reply.status_code == 429:
            raise RetryableSendError(_reason(reply), code=f"http_{reply.status_code}")
        if reply.status_code >= 400:
            raise PermanentSendError(_reason(reply), code=f"http_{reply.status_code}")
        try:
            message_id = str(reply.json()[f.message_id])
        except (ValueError, KeyError, TypeError):
            # Accepted (2xx) but unreadable: the message may be out; retrying risks a duplicate.
            raise PermanentSendError("gateway reply has no message id", code="bad_reply") from None
        return ProviderReceipt(self.provider, message_id, "sent")


def _reason(reply: requests.Response) -> str:
    try:
        data = reply.json()
    except ValueError:
        return f"HTTP {reply.status_code}"
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or f"HTTP {reply.status_code}")
    return f"HTTP {reply.status_code}"
