"""Console channels for the demo and for logic tests: log the message, remember it."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

from notifications.channels import ProviderReceipt

log = logging.getLogger("cmdms.notifications.console")


@dataclass
class ConsoleSms:
    sent: list[tuple[str, str, str | None]] = field(default_factory=list)
    provider = "console"

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)

    def send(self, to: str, text: str, template_id: str | None = None) -> ProviderReceipt:
        self.sent.append((to, text, template_id))
        log.info("SMS to %s: %s", to, text)
        return ProviderReceipt(self.provider, f"console-sms-{next(self._ids)}", "sent")


@dataclass
class ConsolePush:
    sent: list[tuple[str, str, str, dict[str, str]]] = field(default_factory=list)
    provider = "console"

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)

    def send(self, token: str, title: str, body: str, data: dict[str, str]) -> ProviderReceipt:
        self.sent.append((token, title, body, dict(data)))
        log.info("push to %s…: %s — %s", token[:8], title, body)
        return ProviderReceipt(self.provider, f"console-push-{next(self._ids)}", "sent")
