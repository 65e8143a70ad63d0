"""A small billing HTTP client: JSON POST signed with HMAC-SHA256, with an Idempotency-Key.

The signature covers `timestamp + "." + body`, the same scheme billing uses for its webhooks
to us. Errors are split into retryable (timeouts, 5xx, 429) and permanent (other 4xx).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

TIMESTAMP_HEADER = "X-CMDMS-Timestamp"
SIGNATURE_HEADER = "X-CMDMS-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class BillingError(Exception):
    """A call to billing failed; `retryable` says whether trying again may help."""

    retryable = True

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class RetryableBillingError(BillingError):
    retryable = True


class PermanentBillingError(BillingError):
    retryable = False


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `timestamp.body` (the header value is `sha256=<hex>`)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature.strip())


class BillingClient:
    def __init__(self, base_url: str, secret: str, timeout_seconds: float = 10.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"billing base URL must be http(s): {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.timeout_seconds = timeout_seconds

    def post(self, path: str, payload: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """POST JSON; returns the JSON answer. Raises Retryable/PermanentBillingError."""
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode("utf-8")
        timestamp = str(int(time.time()))
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.base_url + path,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                IDEMPOTENCY_HEADER: idempotency_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")[:2000]
            error = (
                RetryableBillingError if exc.code >= 500 or exc.code in (408, 429) else PermanentBillingError
            )
            raise error(f"billing answered {exc.code} to POST {path}: {text[:200]}", exc.code, text) from None
        except TimeoutError as exc:
            raise RetryableBillingError(
                f"billing did not answer POST {path} within {self.timeout_seconds}s"
            ) from exc
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            raise RetryableBillingError(f"cannot reach billing for POST {path}: {exc}") from exc
        try:
            answer = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            raise PermanentBillingError(
                f"billing answered POST {path} with non-JSON", 200, raw[:200].decode("utf-8", "replace")
            ) from None
        return answer if isinstance(answer, dict) else {"result": answer}
