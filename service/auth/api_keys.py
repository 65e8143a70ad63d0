"""API keys: created once (shown once), stored as SHA-256, revocable.

Keys are 32 random bytes, so a fast hash is enough (no dictionary to guess from); the
comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.log import Actor, record
from service.auth.models import SCOPES, ApiKey

KEY_PREFIX = "cmdms_"


class ApiKeyError(ValueError):
    pass


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_key(
    session: Session,
    system: str,
    scopes: list[str],
    actor: Actor,
    org_unit_id: int | None = None,
) -> tuple[ApiKey, str]:
    """Return the new key row and the plaintext key (never stored)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ApiKeyError(f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    if not system.strip():
        raise ApiKeyError("system name is required")
    prefix = secrets.token_hex(6)
    raw = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        prefix=prefix, key_hash=_hash(raw), system=system, scopes=sorted(set(scopes)), org_unit_id=org_unit_id
    )
    session.add(key)
    session.flush()
    record(
        session,
        actor,
        "create",
        "api_key",
        prefix,
        None,
        {"system": system, "scopes": key.scopes, "org_unit_id": org_unit_id},
    )
    return key, raw


def revoke_key(session: Session, prefix: str, actor: Actor) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise ApiKeyError(f"no API key with prefix {prefix!r}")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        record(
            session, actor, "revoke", "api_key", prefix, {"revoked_at": None}, {"revoked_at": key.revoked_at}
        )
    return key


def authenticate(session: Session, raw: str) -> ApiKey | None:
    """The active key matching `raw`, or None (unknown, malformed or revoked)."""
    if not raw.startswith(KEY_PREFIX):
        return None
    prefix, sep, _ = raw[len(KEY_PREFIX) :].partition("_")
    if not sep:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not hmac.compare_digest(key.key_hash, _hash(raw)):
        return None
    return key
