"""The ports every channel implements, and the error classes that decide retry vs give up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ProviderReceipt:
    provider: str  # twilio | http | fcm | console
    provider_id: str  # the provider's message id (Twilio SID, FCM message name, gateway id)
    status: str = "sent"


class SendError(Exception):
    """A send that did not go through. `retryable` says whether trying later can help."""

    retryable: bool = True

    def __init__(self, message: str, *, code: str | None = None, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.code = code
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        text = super().__str__()
        return f"{self.code}: {text}" if self.code else text


class RetryableSendError(SendError):
    """Provider down, 5xx, 429, time-out: try again later with back-off."""

    retryable = True


class PermanentSendError(SendError):
    """Invalid number, rejected content, unknown template: trying again cannot help."""

    retryable = False


class InvalidDeviceToken(PermanentSendError):
    """The push token is unregistered or malformed: retire it and use another channel."""


class SmsSender(Protocol):
    def send(self, to: str, text: str, template_id: str | None) -> ProviderReceipt: ...


class PushSender(Protocol):
    def send(self, token: str, title: str, body: str, data: dict[str, str]) -> ProviderReceipt: ...


def to_e164(mobile: str, country_code: str = "91") -> str:
    """Indian 10-digit mobile numbers as E.164 (+91XXXXXXXXXX); other forms pass through."""
    digits = "".join(ch for ch in mobile if ch.isdigit())
    if mobile.strip().startswith("+"):
        return "+" + digits
    if len(digits) == 10:
        return f"+{country_code}{digits}"
    if len(digits) == 12 and digits.startswith(country_code):
        return "+" + digits
    if len(digits) == 11 and digits.startswith("0"):
        return f"+{country_code}{digits[1:]}"
    return "+" + digits
