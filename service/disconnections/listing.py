"""The DO-list part as its verifier sees it: orders filtered and searched, a page, totals by state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.disconnections.models import ListOrder, ListPart

PAGE_SIZE = 50


def part_view(
    session: Session, part: ListPart, state: str | None, q: str | None, page: int
) -> dict[str, Any]:
    base = select(ListOrder).where(ListOrder.part_id == part.id)
    if state:
        base = base.where(ListOrder.state == state)
    if q:
        base = base.where(ListOrder.ivrs_number.startswith(q.strip(), autoescape=True))
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    rows = list(
        session.scalars(base.order_by(ListOrder.row_no).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    )
    totals = dict(
        session.execute(
            select(ListOrder.state, func.count())
            .where(ListOrder.part_id == part.id)
            .group_by(ListOrder.state)
        )
        .tuples()
        .all()
    )
    return {
        "part_id": part.id, "part_key": part.part_key, "state": part.state, "instance_id": part.instance_id,
        "totals": totals, "total": total, "page": page, "page_size": PAGE_SIZE,
        "orders": [
            {"id": o.id, "row": o.row_no, "ivrs_number": o.ivrs_number, "state": o.state, "reason": o.reason,
             "amount_due_inr": str(o.amount_due_inr) if o.amount_due_inr is not None else None}
            for o in rows
        ],
    }  # fmt: skip
