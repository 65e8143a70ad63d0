"""The verification page's list of a part: its orders joined to each consumer's supply point, the
filters (state, DC, DT, feeder, arrears band, search), and the running totals of consumers and
arrears by state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from service.disconnections.models import ListOrder, ListPart
from service.masterdata.supply import supply_points
from service.web import lists

# Arrears bands (INR) an officer sorts a list by: lower bound inclusive, upper exclusive.
ARREARS_BANDS: dict[str, tuple[Decimal | None, Decimal | None]] = {
    "lt1000": (None, Decimal(1000)),
    "1000-5000": (Decimal(1000), Decimal(5000)),
    "5000-20000": (Decimal(5000), Decimal(20000)),
    "ge20000": (Decimal(20000), None),
}
FILTERS = {"state": "State", "dc": "DC", "dt": "DT", "feeder": "Feeder", "band": "Arrears", "q": "Search"}
MAX_TEXT = 64


@dataclass(frozen=True)
class OrderFilter:
    state: str = ""
    dc: str = ""
    dt: str = ""
    feeder: str = ""
    band: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> OrderFilter:
        def text(name: str) -> str:
            return str(args.get(name) or "").strip()[:MAX_TEXT]

        band = text("band")
        return cls(text("state"), text("dc"), text("dt"), text("feeder"),
                   band if band in ARREARS_BANDS else "", text("q"))  # fmt: skip


def orders(part: ListPart, f: OrderFilter) -> Select[Any]:
    """The part's orders with their supply point, filtered; rows are mappings."""
    points = supply_points()
    stmt = (
        select(
            ListOrder.id,
            ListOrder.row_no,
            ListOrder.ivrs_number,
            ListOrder.state,
            ListOrder.reason,
            ListOrder.amount_due_inr,
            points.c.org_unit_code,
            points.c.dtr_code,
            points.c.feeder_code,
        )  # fmt: skip
        .outerjoin(points, points.c.consumer_id == ListOrder.consumer_id)
        .where(ListOrder.part_id == part.id)
    )
    if f.state:
        stmt = stmt.where(ListOrder.state == f.state)
    if f.dc:
        stmt = stmt.where(points.c.org_unit_code == f.dc)
    if f.dt:
        stmt = stmt.where(points.c.dtr_code == f.dt)
    if f.feeder:
        stmt = stmt.where(points.c.feeder_code == f.feeder)
    if f.band:
        low, high = ARREARS_BANDS[f.band]
        if low is not None:
            stmt = stmt.where(ListOrder.amount_due_inr >= low)
        if high is not None:
            stmt = stmt.where(ListOrder.amount_due_inr < high)
    if f.q:
        stmt = stmt.where(or_(ListOrder.ivrs_number.startswith(f.q, autoescape=True),
                              ListOrder.ivrs_number.contains(f.q, autoescape=True)))  # fmt: skip
    return stmt


def spec() -> lists.ListSpec:
    return lists.ListSpec(
        name="do-orders",
        sorts={
            "row": (ListOrder.row_no, False),
            "ivrs": (ListOrder.ivrs_number, False),
            "arrears": (ListOrder.amount_due_inr, True),
            "state": (ListOrder.state, False),
        },
        default_sort="row",
        tiebreak=ListOrder.id,
        columns=(
            lists.Column("Row", lambda r: r.row_no),
            lists.Column("IVRS number", lambda r: r.ivrs_number),
            lists.Column("DC", lambda r: r.org_unit_code),
            lists.Column("DT", lambda r: r.dtr_code),
            lists.Column("Feeder", lambda r: r.feeder_code),
            lists.Column("Arrears (INR)", lambda r: r.amount_due_inr),
            lists.Column("State", lambda r: r.state),
            lists.Column("Reason", lambda r: r.reason),
        ),
        filters=FILTERS,
        rows="mappings",
    )


@dataclass(frozen=True)
class StateTotal:
    consumers: int
    arrears_inr: Decimal


def totals(session: Session, stmt: Select[Any]) -> dict[str, StateTotal]:
    """Consumers and arrears by state over `stmt` (a part's orders, filtered or not)."""
    sub = stmt.order_by(None).subquery()
    rows = session.execute(
        select(sub.c.state, func.count(), func.coalesce(func.sum(sub.c.amount_due_inr), 0)).group_by(
            sub.c.state
        )
    ).all()
    return {state: StateTotal(int(n), Decimal(amount)) for state, n, amount in rows}


def matching_pending_ids(session: Session, stmt: Select[Any], cap: int) -> list[int]:
    """Select-all-matching: the pending orders of the filtered list (at most cap + 1)."""
    return lists.matching_ids(session, ListOrder.id, stmt.where(ListOrder.state == "pending"), cap)


def choices(session: Session, part: ListPart) -> dict[str, list[str]]:
    """The DCs, DTs and feeders the part's consumers are on, for the filter menus."""
    sub = orders(part, OrderFilter()).subquery()
    out: dict[str, list[str]] = {}
    for key, column in (("dc", sub.c.org_unit_code), ("dt", sub.c.dtr_code), ("feeder", sub.c.feeder_code)):
        out[key] = [v for v in session.scalars(select(column).distinct().order_by(column)) if v]
    return out
