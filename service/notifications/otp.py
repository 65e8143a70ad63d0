"""Staff one-time passwords for approvals (e.g. confirming a disconnection batch).

Six digits from `secrets`, only an HMAC-SHA256 (keyed with the app secret, bound to user,
purpose and object) is stored; valid 5 minutes, 3 attempts, one use. The code goes out by SMS
on the urgent queue, sealed inside the queued notification. The code, digest, check and issue
limits (`new_code`, `code_digest`, `check_code`, `issue_limit`) serve any table of OTP rows
(the consumer app's sign-in keeps its own, `service.consumers`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from service.audit.log import Actor, record
from service.notifications.engine import NotificationEngine, current_engine
from service.notifications.models import StaffOtp
from service.notifications.sending import notify

VALIDITY = timedelta(minutes=5)
MAX_ATTEMPTS = 3
# Issue limits: each code gives three more guesses, so issuing is rationed too (and each one is
# an SMS someone pays for): per user and object, and per user over all objects.
ISSUE_WINDOW = timedelta(minutes=15)
MAX_ISSUES_PER_OBJECT = 3
MAX_ISSUES_PER_USER = 10


class OtpLimitReached(ValueError):
    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


REASONS = ("ok", "wrong", "expired", "attempts_exhausted", "wrong_purpose", "used", "not_found")


@dataclass(frozen=True)
class IssuedOtp:
    otp_id: int
    expires_at: datetime
    notification_id: int


@dataclass(frozen=True)
class Verification:
    reason: str  # one of REASONS
    attempts_left: int = 0

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


class OtpRow(Protocol):
    """What `check_code` reads and moves on a stored OTP (a staff or a consumer row)."""

    purpose: str
    object_key: str
    code_hash: str
    status: str
    attempts: int
    max_attempts: int
    expires_at: datetime
    used_at: datetime | None


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_digest(secret_key: str, subject: int | str, purpose: str, object_key: str, code: str) -> str:
    """HMAC-SHA256 of the code bound to its subject (a user id, a consumer's key), purpose and object."""
    message = f"{subject}|{purpose}|{object_key}|{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def issue(
    session: Session,
    *,
    user_id: int,
    purpose: str,
    object_key: str,
    purpose_label: str | None = None,
    now: datetime | None = None,
    engine: NotificationEngine | None = None,
) -> IssuedOtp:
    """A new OTP for `purpose` on `object_key` (e.g. "disconnection_batch", "42"), sent by SMS.

    Earlier unused OTPs of the same user for the same purpose and object stop working.
    """
    engine = engine or current_engine()
    now = now or datetime.now(UTC)
    if not purpose or not object_key:
        raise ValueError("purpose and object_key are required")
    _check_issue_limits(session, user_id, purpose, object_key, now)
    session.execute(
        update(StaffOtp)
        .where(
            StaffOtp.user_id == user_id,
            StaffOtp.purpose == purpose,
            StaffOtp.object_key == object_key,
            StaffOtp.status == "active",
        )
        .values(status="superseded")
    )
    code = new_code()
    otp = StaffOtp(
        user_id=user_id,
        purpose=purpose,
        object_key=object_key,
        code_hash=code_digest(engine.secret_key, user_id, purpose, object_key, code),
        status="active",
        attempts=0,
        max_attempts=MAX_ATTEMPTS,
        expires_at=now + VALIDITY,
        created_at=now,  # the issue limit counts by the same clock as the validity
    )
    session.add(otp)
    session.flush()
    label = (purpose_label or f"{purpose} {object_key}").replace("_", " ")[:40]
    sent = notify(
        session,
        user_id=user_id,
        message_type="staff_otp",
        params={"purpose": label, "minutes": str(int(VALIDITY.total_seconds() // 60))},
        secret_params={"otp": code},
        dedupe_key=f"otp:{otp.id}",
        now=now,
        engine=engine,
    )
    otp.notification_id = sent.notification_id
    record(
        session,
        Actor("system", "otp"),
        "otp_issued",
        "staff_otp",
        str(otp.id),
        None,
        {"user_id": user_id, "purpose": purpose, "object": object_key, "expires_at": otp.expires_at},
    )
    return IssuedOtp(otp.id, otp.expires_at, sent.notification_id)


def _check_issue_limits(session: Session, user_id: int, purpose: str, object_key: str, now: datetime) -> None:
    # Serialises one user's issues, so two requests at once cannot both pass the count.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"otp-issue:{user_id}"})
    since = now - ISSUE_WINDOW
    recent = session.execute(
        select(StaffOtp.purpose, StaffOtp.object_key, StaffOtp.created_at).where(
            StaffOtp.user_id == user_id, StaffOtp.created_at > since
        )
    ).all()
    same = [r.created_at for r in recent if (r.purpose, r.object_key) == (purpose, object_key)]
    refused = issue_limit(same, [r.created_at for r in recent], now, purpose.replace("_", " "))
    if refused is not None:
        raise refused


def issue_limit(
    same_object: Sequence[datetime], every: Sequence[datetime], now: datetime, label: str
) -> OtpLimitReached | None:
    """The refusal when one more code would pass the limits, given the creation times inside
    `ISSUE_WINDOW` of the subject's codes for this object and for all objects; None: issue."""
    minutes = int(ISSUE_WINDOW.total_seconds() // 60)
    same = sorted(same_object)
    if len(same) >= MAX_ISSUES_PER_OBJECT:
        return OtpLimitReached(
            f"{MAX_ISSUES_PER_OBJECT} codes for this {label} in {minutes} minutes; use the last one or wait.",
            _seconds_until(same[-MAX_ISSUES_PER_OBJECT] + ISSUE_WINDOW, now),
        )
    all_times = sorted(every)
    if len(all_times) >= MAX_ISSUES_PER_USER:
        return OtpLimitReached(
            f"{MAX_ISSUES_PER_USER} codes in {minutes} minutes; wait before asking for another.",
            _seconds_until(all_times[-MAX_ISSUES_PER_USER] + ISSUE_WINDOW, now),
        )
    return None


def _seconds_until(at: datetime, now: datetime) -> int:
    return max(1, int((at - now).total_seconds()) + 1)


def verify(
    session: Session,
    *,
    user_id: int,
    purpose: str,
    object_key: str,
    code: str,
    now: datetime | None = None,
    engine: NotificationEngine | None = None,
) -> Verification:
    """Check `code` against the user's latest OTP; the caller commits (attempts count)."""
    engine = engine or current_engine()
    now = now or datetime.now(UTC)
    otp = session.scalar(
        select(StaffOtp)
        .where(StaffOtp.user_id == user_id, StaffOtp.status != "superseded")
        .order_by(StaffOtp.id.desc())
        .limit(1)
        .with_for_update()
    )
    subject = otp.user_id if otp is not None else user_id
    result = check_code(otp, subject, purpose, object_key, code, now, engine.secret_key)
    if otp is not None:
        record(
            session,
            Actor("user", str(user_id)),
            "otp_verify",
            "staff_otp",
            str(otp.id),
            None,
            {"purpose": purpose, "object": object_key, "result": result.reason},
        )
    return result


def check_code(
    otp: OtpRow | None,
    subject: int | str,
    purpose: str,
    object_key: str,
    code: str,
    now: datetime,
    secret_key: str,
) -> Verification:
    """Check `code` against the subject's latest OTP row, counting the attempt on the row (the
    caller commits): expiry, attempts left, purpose and object, then the digest."""
    if otp is None:
        return Verification("not_found")
    if otp.status == "used":
        return Verification("used")
    if otp.status == "exhausted" or otp.attempts >= otp.max_attempts:
        return Verification("attempts_exhausted")
    if now >= otp.expires_at:
        return Verification("expired")
    otp.attempts += 1
    left = otp.max_attempts - otp.attempts
    if left == 0:
        otp.status = "exhausted"
    if (otp.purpose, otp.object_key) != (purpose, object_key):
        return Verification("wrong_purpose", left)
    given = code_digest(secret_key, subject, otp.purpose, otp.object_key, str(code).strip())
    if not hmac.compare_digest(given, otp.code_hash):
        return Verification("wrong", left)
    otp.status, otp.used_at = "used", now
    return Verification("ok", left)


@dataclass(frozen=True)
class OtpState:
    """What a page shows of a person's latest OTP for one object (never the code)."""

    status: str  # active | used | locked | expired | superseded
    created_at: datetime
    expires_at: datetime
    attempts_left: int


def latest(
    session: Session, *, user_id: int, purpose: str, object_key: str, now: datetime
) -> OtpState | None:
    otp = session.scalar(
        select(StaffOtp)
        .where(StaffOtp.user_id == user_id, StaffOtp.purpose == purpose, StaffOtp.object_key == object_key)
        .order_by(StaffOtp.id.desc())
        .limit(1)
    )
    if otp is None:
        return None
    left = max(0, otp.max_attempts - otp.attempts)
    status = "locked" if otp.status == "exhausted" or (otp.status == "active" and left == 0) else otp.status
    if status == "active" and otp.expires_at <= now:
        status = "expired"
    return OtpState(status, otp.created_at, otp.expires_at, left)
