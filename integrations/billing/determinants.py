"""Sending billing determinants to billing (NGB): one POST per consumer and period revision."""

from __future__ import annotations

from typing import Any, Protocol

DETERMINANTS_PATH = "/api/v1/determinants"


class Poster(Protocol):
    def post(self, path: str, payload: dict[str, Any], idempotency_key: str) -> dict[str, Any]: ...


def send_determinants(client: Poster, payload: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    """POST the determinants; billing answers the first response again for a repeated key."""
    return client.post(DETERMINANTS_PATH, payload, idempotency_key)
