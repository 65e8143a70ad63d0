"""The places other domains fill on the consumer's page: outages, cases, field orders, prepaid.

Each is looked up by its package's public function when that package is installed in this
build; until then the page says "not available" rather than showing an empty list that
would read as "none".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Section:
    available: bool
    rows: list[dict[str, Any]]
    reason: str = ""


# section -> (package, function): f(session, consumer_id, now) -> list of dicts
SEAMS: dict[str, tuple[str, str]] = {
    "outages": ("service.outages", "outages_for_consumer"),
    "cases": ("service.revenue", "open_cases_for_consumer"),
    "orders": ("service.field_orders", "open_orders_for_consumer"),
    "prepaid": ("service.prepaid", "balance_for_consumer"),
}


def face(package: str, function: str) -> Callable[..., Any] | None:
    """`package.function` if this build has both, else None (the caller says "not available")."""
    try:
        module = importlib.import_module(package)
    except ModuleNotFoundError:
        return None
    found = getattr(module, function, None)
    return found if callable(found) else None


def section(name: str, session: Session, consumer_id: int, now: datetime) -> Section:
    package, function = SEAMS[name]
    found = face(package, function)
    if found is None:
        return Section(False, [], f"{package}.{function} is not built yet")
    result = found(session, consumer_id, now)
    rows = [result] if isinstance(result, dict) else list(result or [])
    return Section(True, [r if isinstance(r, dict) else _as_dict(r) for r in rows])


def _as_dict(row: Any) -> dict[str, Any]:
    if hasattr(row, "_asdict"):
        return dict(row._asdict())
    if hasattr(row, "__dataclass_fields__"):
        return {k: getattr(row, k) for k in row.__dataclass_fields__}
    return {"value": row}
