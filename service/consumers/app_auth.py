"""Consumer app sign-in: an OTP to the registered mobile, then a one-hour bearer token.

The code's digest, attempts, expiry and issue limits are notifications' OTP rules (its face);
the rows are ours (`consumer_otps`). A token is 32 random bytes; only its SHA-256 is stored,
so a database dump signs nobody in (decision 016).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from service.audit.log import Actor, record
from service.consumers.models import ConsumerAppToken, ConsumerOtp
from service.masterdata import Consumer
from service.notifications import (
    OTP_ISSUE_WINDOW,
    OTP_MAX_ATTEMPTS,
    OTP_VALIDITY,
    Verification,
    check_code,
    code_digest,
    issue_limit,
    new_code,
    notify,
)

PURPOSE = "consumer_app_login"
TOKEN_VALIDITY = timedelta(hours=1)
TOKEN_PREFIX = "cat_"  # noqa: S105 - not a secret: consumer app token: tells it apart from a system's API key in logs


@dataclass(frozen=True)
class AppConsumer:
    id: int
    ivrs_number: str
    name: str
    mobile: str | None
    language: str
    tariff_category: str
    org_unit_id: int


@dataclass(frozen=True)
class OtpSent:
    otp_id: int
    expires_at: datetime


@dataclass(frozen=True)
class SignedIn:
    token: str  # shown once, never stored
    expires_at: datetime
    consumer: AppConsumer


_CONSUMER_COLUMNS = (
    Consumer.id,
    Consumer.ivrs_number,
    Consumer.name,
    Consumer.mobile,
    Consumer.language,
    Consumer.tariff_category,
    Consumer.org_unit_id,
)  # AppConsumer's fields, in order


def find_consumer(session: Session, ivrs: str) -> AppConsumer | None:
    row = session.execute(select(*_CONSUMER_COLUMNS).where(Consumer.ivrs_number == ivrs)).first()
    return None if row is None else AppConsumer(*row)


def _subject(consumer: AppConsumer) -> str:
    return f"consumer:{consumer.id}"


def request_otp(session: Session, ivrs: str, now: datetime, secret_key: str) -> OtpSent | None:
    """Send a sign-in code to the consumer's registered mobile. None: no such consumer, or no
    mobile to send to (the caller answers both like a sent code, so IVRS numbers cannot be
    probed). Raises notifications' OtpLimitReached past the issue limits."""
    consumer = find_consumer(session, ivrs)
    if consumer is None or not consumer.mobile:
        return None
    # Serialises one consumer's requests, so two at once cannot both pass the count.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"consumer-otp:{consumer.id}"})
    times = list(
        session.execute(
            select(ConsumerOtp.created_at).where(
                ConsumerOtp.consumer_id == consumer.id, ConsumerOtp.created_at > now - OTP_ISSUE_WINDOW
            )
        ).scalars()
    )
    refused = issue_limit(times, times, now, "sign-in")
    if refused is not None:
        raise refused
    session.execute(
        update(ConsumerOtp)
        .where(ConsumerOtp.consumer_id == consumer.id, ConsumerOtp.status == "active")
        .values(status="superseded")
    )
    code = new_code()
    otp = ConsumerOtp(
        consumer_id=consumer.id,
        purpose=PURPOSE,
        object_key=consumer.ivrs_number,
        code_hash=code_digest(secret_key, _subject(consumer), PURPOSE, consumer.ivrs_number, code),
        status="active",
        attempts=0,
        max_attempts=OTP_MAX_ATTEMPTS,
        expires_at=now + OTP_VALIDITY,
        created_at=now,
    )
    session.add(otp)
    session.flush()
    sent = notify(
        session,
        consumer_id=consumer.id,
        message_type="consumer_otp",
        params={"ivrs": consumer.ivrs_number, "minutes": str(int(OTP_VALIDITY.total_seconds() // 60))},
        secret_params={"otp": code},
        dedupe_key=f"consumer-otp:{otp.id}",
        now=now,
    )
    otp.notification_id = sent.notification_id
    record(session, Actor("consumer", consumer.ivrs_number), "consumer_app.otp_issued", "consumer",
           consumer.ivrs_number, None, {"otp_id": otp.id, "expires_at": otp.expires_at})  # fmt: skip
    return OtpSent(otp.id, otp.expires_at)


def sign_in(
    session: Session, ivrs: str, code: str, now: datetime, secret_key: str
) -> tuple[Verification, SignedIn | None]:
    """Check the code against the consumer's latest code (the attempt counts: the caller
    commits either way) and, if it is right, issue a bearer token."""
    consumer = find_consumer(session, ivrs)
    if consumer is None:
        return Verification("not_found"), None
    otp = session.scalar(
        select(ConsumerOtp)
        .where(ConsumerOtp.consumer_id == consumer.id, ConsumerOtp.status != "superseded")
        .order_by(ConsumerOtp.id.desc())
        .limit(1)
        .with_for_update()
    )
    result = check_code(otp, _subject(consumer), PURPOSE, consumer.ivrs_number, code, now, secret_key)
    actor = Actor("consumer", consumer.ivrs_number)
    if otp is not None:
        record(session, actor, "consumer_app.otp_verify", "consumer", consumer.ivrs_number, None,
               {"otp_id": otp.id, "result": result.reason})  # fmt: skip
    if not result.ok:
        return result, None
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ConsumerAppToken(
        consumer_id=consumer.id, token_hash=token_hash(raw), created_at=now, expires_at=now + TOKEN_VALIDITY
    )
    session.add(token)
    session.flush()
    record(session, actor, "consumer_app.signed_in", "consumer_app_token", str(token.id), None,
           {"expires_at": token.expires_at})  # fmt: skip
    return result, SignedIn(raw, token.expires_at, consumer)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class TokenHolder:
    token_id: int
    expires_at: datetime
    consumer: AppConsumer


def holder_of(session: Session, raw: str, now: datetime) -> TokenHolder | None:
    """The consumer a bearer token signs in, or None: unknown, expired or revoked."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    row = session.execute(
        select(ConsumerAppToken.id, ConsumerAppToken.expires_at, *_CONSUMER_COLUMNS)
        .join(Consumer, Consumer.id == ConsumerAppToken.consumer_id)
        .where(
            ConsumerAppToken.token_hash == token_hash(raw),
            ConsumerAppToken.revoked_at.is_(None),
            ConsumerAppToken.expires_at > now,
        )
    ).first()
    if row is None:
        return None
    return TokenHolder(row[0], row[1], AppConsumer(*row[2:]))


def sign_out(session: Session, holder: TokenHolder, now: datetime) -> None:
    session.execute(
        update(ConsumerAppToken).where(ConsumerAppToken.id == holder.token_id).values(revoked_at=now)
    )
    record(session, Actor("consumer", holder.consumer.ivrs_number), "consumer_app.signed_out",
           "consumer_app_token", str(holder.token_id), None, None)  # fmt: skip
