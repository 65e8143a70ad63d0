"""The safety window of a DO-list part: the discom's holidays, closed days, working hours and the
division's daily cap (rules/safety/disconnection.yaml), on the injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rules.disconnection_safety import SafetyRules
from service.commands import HesCommand
from service.disconnections.models import ListPart
from service.masterdata.supply import discom_code_of


def window_for(rules: SafetyRules, now: datetime):  # type: ignore[no-untyped-def]
    """A Window (commanding.Window) on these rules at `now`."""

    def window(session: Session, part: ListPart, count: int) -> datetime | None:
        discom = discom_code_of(session, part.division_id)
        start = rules.next_window(discom, now)
        day = rules.day_of(start)
        opens = datetime.combine(day, rules.start, rules.zone)
        used = int(
            session.scalar(
                select(func.count(HesCommand.id)).where(
                    HesCommand.org_unit_id == part.division_id,
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

    return window
