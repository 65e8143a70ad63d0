"""The safety window of a disconnection: the discom's holidays, closed days, working hours and the
division's daily cap (rules/safety/disconnection.yaml), on the injected clock. Used by a DO-list
part and by the prepaid package's automatic disconnections."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rules.disconnection_safety import SafetyRules
from service.commands import HesCommand
from service.disconnections.models import ListPart
from service.masterdata.supply import discom_code_of


def disconnection_start(
    session: Session, rules: SafetyRules, now: datetime, division_id: int, count: int
) -> datetime | None:
    """When `count` disconnections of this division may go out: None (now) or the start of the
    next allowed window (after night, a closed day, a holiday, or the day's cap used up)."""
    discom = discom_code_of(session, division_id)
    start = rules.next_window(discom, now)
    day = rules.day_of(start)
    opens = datetime.combine(day, rules.start, rules.zone)
    used = int(
        session.scalar(
            select(func.count(HesCommand.id)).where(
                HesCommand.org_unit_id == division_id,
                HesCommand.action == "disconnect",
                func.coalesce(HesCommand.not_before, HesCommand.created_at) >= opens,
                func.coalesce(HesCommand.not_before, HesCommand.created_at) < opens + timedelta(days=1),
                HesCommand.state != "cancelled",
            )  # fmt: skip
        )
        or 0
    )
    if used + count > rules.daily_cap:
        start = rules.next_window(discom, start, skip_today=True)
    return None if start <= now else start


def window_for(rules: SafetyRules, now: datetime):  # type: ignore[no-untyped-def]
    """A Window (commanding.Window) on these rules at `now`."""

    def window(session: Session, part: ListPart, count: int) -> datetime | None:
        return disconnection_start(session, rules, now, part.division_id, count)

    return window
