"""`flask aggregates rebuild --from --to`: recompute every aggregate of a span of local days."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from sqlalchemy import text

from service.unit_of_work import unit_of_work


def register(app: Flask) -> None:
    group = click.Group("aggregates", help="Daily/hourly/network/org aggregates the reports read.")

    @group.command("rebuild")
    @click.option("--from", "first", required=True, help="first local day YYYY-MM-DD")
    @click.option("--to", "last", required=True, help="last local day YYYY-MM-DD")
    @click.option("--chunk", default=5000, show_default=True, help="meters per transaction")
    def rebuild(first: str, last: str, chunk: int) -> None:
        from service.aggregates.refresh import refresh, refresh_all_feeders

        first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
        with unit_of_work() as uow:
            ids = list(uow.session.scalars(text("SELECT id FROM meters ORDER BY id")))
            written = 0
            for i in range(0, len(ids), chunk):
                written += refresh(uow.session, ids[i : i + chunk], first_day, last_day, with_network=False)
                uow.commit()
            refresh_all_feeders(uow.session, first_day, last_day)
            uow.commit()
        click.echo(f"{written} meter-days written for {len(ids)} meters, {first}..{last}")

    app.cli.add_command(group)
