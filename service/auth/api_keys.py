"""API keys: created once (shown once), stored as SHA-256, revocable.

Keys are 32 random bytes, so a fast hash is enough (no dictionary to guess from); the
comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.audit.log import Actor, record
from service.auth.models import SCOPES, ApiKey

KEY_PREFIX = "cmdms_"
CACHE_EXTENSION = "cmdms.api_key_cache"


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


@dataclass(frozen=True)
class KeyInfo:
    """What a request needs of a key: plain values, safe to keep between requests."""

    id: int
    prefix: str
    system: str
    org_unit_id: int | None
    scopes: frozenset[str]
    revoked: bool


class KeyCache:
    """Keys seen in the last `ttl_s` seconds, by hash; `last_used_at` written at most once a minute.

    Without it every request read the key row and updated `last_used_at`, one hot row shared by
    every request of a system under load. A revocation reaches this process at once when made
    here (`forget`), and other processes within `ttl_s` (docs/operations.md). Unknown keys are
    not cached, so a key created a moment ago works at once and random keys fill nothing.
    """

    def __init__(
        self,
        ttl_s: float = 30.0,
        touch_every_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s, self.touch_every_s, self._clock = ttl_s, touch_every_s, clock
        self._entries: dict[str, tuple[float, KeyInfo]] = {}
        self._touched: dict[str, float] = {}  # by prefix: random, unlike ids a restore reuses
        self._lock = threading.Lock()

    def lookup(self, session: Session, raw: str) -> KeyInfo | None:
        digest = _hash(raw)
        now = self._clock()
        with self._lock:
            hit = self._entries.get(digest)
        if hit is not None and now - hit[0] < self.ttl_s:
            return hit[1]
        key = authenticate(session, raw)
        if key is None:
            return None
        info = KeyInfo(
            key.id, key.prefix, key.system, key.org_unit_id, frozenset(key.scopes), key.revoked_at is not None
        )
        with self._lock:
            self._entries[digest] = (now, info)
        return info

    def touch(self, session: Session, info: KeyInfo) -> None:
        """Record the use in the caller's transaction, unless recorded in the last minute."""
        now = self._clock()
        with self._lock:
            last = self._touched.get(info.prefix)
            if last is not None and now - last < self.touch_every_s:
                return
            self._touched[info.prefix] = now
        session.execute(update(ApiKey).where(ApiKey.id == info.id).values(last_used_at=datetime.now(UTC)))

    def forget(self, prefix: str) -> None:
        with self._lock:
            for digest in [d for d, (_, info) in self._entries.items() if info.prefix == prefix]:
                del self._entries[digest]
