"""`flask aggregates rebuild --from --to`: recompute every aggregate of a span of local days."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from sqlalchemy import text

from service.extensions import db


def register(app: Flask) -> None:
    group = click.Group("aggregates", help="Daily/hourly/network/org aggregates the reports read.")

    @group.command("rebuild")
    @click.option("--from", "first", required=True, help="first local day YYYY-MM-DD")
    @click.option("--to", "last", required=True, help="last local day YYYY-MM-DD")
    @click.option("--chunk", default=5000, show_default=True, help="meters per transaction")
    def rebuild(first: str, last: str, chunk: int) -> None:
        from service.aggregates.refresh import refresh, refresh_all_feeders

        first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
        session = db.session()
        ids = list(session.scalars(text("SELECT id FROM meters ORDER BY id")))
        written = 0
        for i in range(0, len(ids), chunk):
            written += refresh(session, ids[i : i + chunk], first_day, last_day, with_network=False)
            session.commit()
        refresh_all_feeders(session, first_day, last_day)
        session.commit()
        click.echo(f"{written} meter-days written for {len(ids)} meters, {first}..{last}")

    app.cli.add_command(group)
