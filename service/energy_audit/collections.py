"""Collection data from billing, per consumer per month: idempotent (same content changes
nothing), per-row rejects naming row and field, audited, and the feeders' days refreshed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from service import aggregates
from service.audit.log import record_many
from service.auth.principal import Principal
from service.auth.scoping import can_see

MAX_ROWS = 10_000
AMOUNTS = ("amount_billed_inr", "amount_collected_inr", "arrears_collected_inr")


@dataclass
class CollectionResult:
    stored: int = 0
    revised: int = 0
    unchanged: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def reject(self, row: int, fld: str, error: str, message: str) -> None:
        self.rejects.append({"row": row, "field": fld, "error": error, "message": message})

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "revised": self.revised,
            "unchanged": self.unchanged,
            "rejected": len(self.rejects),
            "rejects": self.rejects,
        }


def check_period(period: Any) -> str:
    if not isinstance(period, str):
        raise ValueError("period must be a month YYYY-MM")
    try:
        datetime.strptime(period, "%Y-%m")
    except ValueError:
        raise ValueError("period must be a month YYYY-MM") from None
    return period


def _decimal(value: Any, places: int) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    if not d.is_finite() or d < 0 or d != d.quantize(Decimal(1).scaleb(-places)) or d >= Decimal(10) ** 11:
        return None
    return d.quantize(Decimal(1).scaleb(-places))


def store(session: Session, principal: Principal, period: str, rows: list[Any]) -> CollectionResult:
    """Upsert the rows of one month; rows that cannot be read are rejected, the rest kept."""
    result = CollectionResult()
    parsed: dict[str, tuple[int, dict[str, Decimal]]] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            result.reject(i, "", "invalid_row", "each row must be an object")
            continue
        ivrs = row.get("ivrs_number")
        if not isinstance(ivrs, str) or not 0 < len(ivrs) <= 32:
            result.reject(i, "ivrs_number", "invalid_field", "'ivrs_number' is required (1-32 characters)")
            continue
        values: dict[str, Decimal] = {}
        for name, places, required in (
            ("units_billed_kwh", 3, True),
            ("amount_billed_inr", 2, True),
            ("amount_collected_inr", 2, True),
            ("arrears_collected_inr", 2, False),
        ):
            if name not in row and not required:
                values[name] = Decimal("0.00")
                continue
            d = _decimal(row.get(name), places)
            if d is None:
                result.reject(i, name, "invalid_field",
                              f"'{name}' must be a number >= 0 with at most {places} decimals")  # fmt: skip
                break
            values[name] = d
        else:
            if ivrs in parsed:
                result.reject(
                    i, "ivrs_number", "duplicate_row", f"consumer {ivrs!r} already in row {parsed[ivrs][0]}"
                )
                continue
            parsed[ivrs] = (i, values)
    if not parsed:
        return result
    known = {
        r.ivrs_number: r
        for r in session.execute(
            text("SELECT id, ivrs_number, org_unit_id FROM consumers WHERE ivrs_number = ANY(:ivrs)"),
            {"ivrs": list(parsed)},
        )
    }
    allowed = {org for org in {k.org_unit_id for k in known.values()} if can_see(session, principal, org)}
    upserts = []
    for ivrs, (i, values) in parsed.items():
        consumer = known.get(ivrs)
        # A consumer outside the caller's org unit is as unknown as one that does not exist.
        if consumer is None or consumer.org_unit_id not in allowed:
            result.reject(i, "ivrs_number", "unknown_consumer", f"no consumer {ivrs!r}")
            continue
        upserts.append(
            {"consumer_id": consumer.id, "org_unit_id": consumer.org_unit_id, "ivrs": ivrs, **values}
        )
    if not upserts:
        return result
    existing = {
        r.consumer_id: r
        for r in session.execute(
            text(
                "SELECT consumer_id, units_billed_kwh, amount_billed_inr, amount_collected_inr,"
                " arrears_collected_inr FROM billing_collections WHERE period = :p AND consumer_id = ANY(:ids)"
            ),
            {"p": period, "ids": [u["consumer_id"] for u in upserts]},
        )
    }
    changed, entries = [], []
    for u in upserts:
        old = existing.get(u["consumer_id"])
        new = {k: u[k] for k in ("units_billed_kwh", *AMOUNTS)}
        if old is not None and all(getattr(old, k) == v for k, v in new.items()):
            result.unchanged += 1
            continue
        if old is None:
            result.stored += 1
        else:
            result.revised += 1
        changed.append({**u, "period": period, "source": principal.name})
        before = None if old is None else {k: getattr(old, k) for k in new}
        entries.append((f"{u['ivrs']}/{period}", before, new))
    if changed:
        session.execute(
            text(
                "INSERT INTO billing_collections (consumer_id, period, org_unit_id, units_billed_kwh,"
                " amount_billed_inr, amount_collected_inr, arrears_collected_inr, source, revision, updated_at)"
                " VALUES (:consumer_id, :period, :org_unit_id, :units_billed_kwh, :amount_billed_inr,"
                " :amount_collected_inr, :arrears_collected_inr, :source, 1, now())"
                " ON CONFLICT (consumer_id, period) DO UPDATE SET org_unit_id = excluded.org_unit_id,"
                " units_billed_kwh = excluded.units_billed_kwh, amount_billed_inr = excluded.amount_billed_inr,"
                " amount_collected_inr = excluded.amount_collected_inr,"
                " arrears_collected_inr = excluded.arrears_collected_inr, source = excluded.source,"
                " revision = billing_collections.revision + 1, updated_at = now()"
            ),
            changed,
        )
        record_many(session, principal.actor, "billing.collection", "billing_collection", entries)
        aggregates.refresh_consumers_month(session, [c["consumer_id"] for c in changed], period)
    return result
