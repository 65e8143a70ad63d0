"""The rest of what the app shows a signed-in consumer: notifications sent to them, prepaid
balance and ledger, planned and current outages, push device registration. Each from its
package's face; where a package has no such function yet, {"available": false} with the reason
— never an empty list that would read as "none"."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from service.audit.log import Actor
from service.consumers.seams import face, section
from service.notifications import consumer_notifications, register_device
from service.prepaid import LedgerError, balance

HIDDEN_TYPES = ("consumer_otp",)  # sign-in codes are not news to the consumer


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def notifications(session: Session, consumer_id: int, limit: int, offset: int) -> dict[str, Any]:
    total, items = consumer_notifications(
        session, consumer_id, limit=limit, offset=offset, exclude_types=HIDDEN_TYPES
    )
    return {"total": total, "limit": limit, "offset": offset, "items": _jsonable(items)}


def prepaid(session: Session, consumer_id: int, now: datetime, limit: int, offset: int) -> dict[str, Any]:
    try:
        balance_inr = balance(session, consumer_id)
    except LedgerError:
        return {"prepaid": False}
    ledger_face = face("service.prepaid", "ledger_for_consumer")
    if ledger_face is None:
        ledger: dict[str, Any] = {
            "available": False,
            "reason": "service.prepaid.ledger_for_consumer is not built yet",
        }
    else:
        total, rows = ledger_face(session, consumer_id, limit=limit, offset=offset)
        ledger = {
            "available": True,
            "total": total,
            "limit": limit,
            "offset": offset,
            "items": _jsonable(rows),
        }
    return {"prepaid": True, "balance_inr": str(balance_inr), "as_of": now.isoformat(), "ledger": ledger}


def outages(session: Session, consumer_id: int, now: datetime) -> dict[str, Any]:
    found = section("outages", session, consumer_id, now)
    if not found.available:
        return {"available": False, "reason": found.reason}
    return {"available": True, "items": _jsonable(found.rows)}


def add_device(session: Session, consumer_id: int, ivrs: str, token: str, platform: str) -> int:
    return register_device(session, consumer_id, token, platform, Actor("consumer", ivrs))
