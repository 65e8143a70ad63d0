"""Login throttling per account and per address, counted from the audit log's failed logins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from service.audit.log import count_since

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5  # then the account waits, even for the right password
MAX_FAILURES_PER_ADDRESS = 20  # one address guessing across many accounts


@dataclass(frozen=True)
class Throttled:
    scope: str  # "account" | "address"
    retry_after_seconds: int

    @property
    def message(self) -> str:
        minutes = max(1, (self.retry_after_seconds + 59) // 60)
        what = "this account" if self.scope == "account" else "your address"
        return (
            f"Too many failed logins for {what}. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
        )


def check(session: Session, username: str, address: str, now: datetime | None = None) -> Throttled | None:
    """None if a login may be tried now; else which limit holds and for how long."""
    now = now or datetime.now(UTC)
    since = now - WINDOW
    count, oldest = count_since(
        session, "login_failed", since, entity="user", entity_key=username.lower()[:128]
    )
    if count >= MAX_FAILURES_PER_ACCOUNT:
        return Throttled("account", _until(oldest, now))
    count, oldest = count_since(session, "login_failed", since, after={"address": address})
    if count >= MAX_FAILURES_PER_ADDRESS:
        return Throttled("address", _until(oldest, now))
    return None


def _until(oldest: datetime | None, now: datetime) -> int:
    if oldest is None:  # not reached: a count at the limit has an oldest entry
        return 1
    return max(1, int((oldest + WINDOW - now).total_seconds()) + 1)
