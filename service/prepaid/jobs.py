"""RQ jobs of prepaid (each owns its transaction)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

from service.consumption.tariffs import tariff_book
from service.prepaid.alerts import evaluate
from service.prepaid.deduction import deduct
from service.unit_of_work import unit_of_work

IST = ZoneInfo("Asia/Kolkata")


def now() -> datetime:
    clock = current_app.extensions["cmdms.ports"].get("clock")
    return clock() if clock is not None else datetime.now(UTC)


def daily_deduction(day: str | None = None) -> dict[str, Any]:
    """Charge `day` (default: yesterday, IST) to every open prepaid account; hourly, so a day's
    late data is trued up within the hour after VEE has stored it. Idempotent."""
    charged_day = date.fromisoformat(day) if day else now().astimezone(IST).date() - timedelta(days=1)
    with unit_of_work(remove=True) as uow:
        result = deduct(uow.session, charged_day, tariff_book())
        uow.commit()
    return {"day": str(result.day), "accounts": result.accounts, "charged": result.charged,
            "trued_up": result.trued_up, "unpriced": result.unpriced, "estimated": result.estimated,
            "alerts": alerts_and_disconnections(str(charged_day))}  # fmt: skip


def alerts_and_disconnections(day: str) -> dict[str, Any]:
    """After the deduction of `day`: low-balance and zero notices, emergency credit, automatic
    disconnection held to the safety window (its own transaction: the charges stand if it fails)."""
    from service.prepaid import RULES_KEY

    with unit_of_work(remove=True) as uow:
        result = evaluate(uow.session, date.fromisoformat(day), current_app.extensions[RULES_KEY], now())
        uow.commit()
    return result.as_dict()
