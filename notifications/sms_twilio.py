"""SMS through Twilio's Messages API with the official `twilio` SDK."""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifications.channels import PermanentSendError, ProviderReceipt, RetryableSendError, to_e164

# Twilio error codes that no retry can fix (https://www.twilio.com/docs/api/errors):
# invalid or non-mobile "To", unsubscribed recipient, region not enabled, invalid "From".
PERMANENT_CODES = frozenset({21211, 21212, 21408, 21606, 21610, 21612, 21614, 21617, 30003, 30005, 30006})


class TwilioSms:
    """`SmsSender` over Twilio. `base_url` points the SDK at a stand-in in tests."""

    provider = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        base_url: str = "",
        status_callback_url: str = "",
        timeout_seconds: float = 10.0,
    ) -> None:
        # A non-empty mapping, so the SDK never falls back to os.environ for region/edge
        # (service/config.py is the one reader of the environment).
        self._client = Client(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=timeout_seconds),
            environment={"CMDMS": "1"},
        )
        if base_url:
            self._client.api.base_url = base_url.rstrip("/")
        self._from = from_number
        self._status_callback_url = status_callback_url

    def send(self, to: str, text: str, template_id: str | None = None) -> ProviderReceipt:
        kwargs: dict[str, str] = {"to": to_e164(to), "from_": self._from, "body": text}
        if self._status_callback_url:
            kwargs["status_callback"] = self._status_callback_url
        try:
            message = self._client.messages.create(**kwargs)
        except TwilioRestException as exc:
            raise classify(exc) from exc
        except requests.RequestException as exc:
            raise RetryableSendError(f"Twilio unreachable: {exc}", code="network") from exc
        except TwilioException as exc:
            raise RetryableSendError(f"Twilio error: {exc.__class__.__name__}", code="twilio") from exc
        return ProviderReceipt(self.provider, str(message.sid), str(message.status or "queued"))


def classify(exc: TwilioRestException) -> PermanentSendError | RetryableSendError:
    """5xx and 429 are worth retrying; a known permanent code or any other 4xx is not."""
    code = f"twilio_{exc.code}" if exc.code else f"http_{exc.status}"
    message = str(exc.msg or f"HTTP {exc.status}")
    if exc.code in PERMANENT_CODES:
        return PermanentSendError(message, code=code)
    if exc.status >= 500 or exc.status == 429:
        return RetryableSendError(message, code=code)
    return PermanentSendError(message, code=code)
