"""RQ jobs and CLI of revenue protection (each owns its transaction)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app

from service.revenue.analytics import AnalyticsRun, analyse
from service.unit_of_work import unit_of_work

IST = ZoneInfo("Asia/Kolkata")
WINDOW_DAYS = 30


def now() -> datetime:
    clock = current_app.extensions["cmdms.ports"].get("clock")
    return clock() if clock is not None else datetime.now(UTC)


def _summary(run: AnalyticsRun) -> dict[str, Any]:
    return {"from": str(run.first), "to": str(run.last), "consumers": run.consumers, "hits": run.hits,
            "cases_opened": len(run.added.opened), "evidence_added": run.added.evidence}  # fmt: skip


def daily_analytics(last: str | None = None) -> dict[str, Any]:
    """The last 30 local days up to yesterday (or `last`), every morning. Idempotent: a finding
    already on a case adds nothing, so a re-run (or the next day's overlapping window) is safe."""
    at = now()
    last_day = date.fromisoformat(last) if last else at.astimezone(IST).date() - timedelta(days=1)
    with unit_of_work(remove=True) as uow:
        run = analyse(uow.session, last_day - timedelta(days=WINDOW_DAYS - 1), last_day, at)
        uow.commit()
    return _summary(run)


def register_cli(app: Flask) -> None:
    group = click.Group("revenue", help="Revenue protection: analytics and ATR cases.")

    @group.command("analyse")
    @click.option("--from", "first", required=True, help="first local day YYYY-MM-DD")
    @click.option("--to", "last", required=True, help="last local day YYYY-MM-DD")
    def analyse_command(first: str, last: str) -> None:
        with unit_of_work() as uow:
            run = analyse(uow.session, date.fromisoformat(first), date.fromisoformat(last), now())
            uow.commit()
        click.echo(_summary(run))

    app.cli.add_command(group)
