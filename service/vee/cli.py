"""CLI: `flask rules check`, `flask vee rerun` and `flask vee determinants`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from rules.loader import RULES_DIR, check_directory

rules_cli = AppGroup("rules", help="VEE rule files.")
vee_cli = AppGroup("vee", help="Validation, estimation and editing.")


@rules_cli.command("check")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=RULES_DIR)
def check(directory: Path) -> None:
    """Validate every rule file; print file:line: reason for each problem (exit 1 if any)."""
    sets, errors = check_directory(directory)
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        sys.exit(1)
    click.echo(f"{len(sets)} rule files, {sum(len(s.rules) for s in sets)} rules: OK")


@vee_cli.command("rerun")
@click.option("--meter", "serials", multiple=True, required=True, help="meter serial number (repeatable)")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]))
def rerun(serials: tuple[str, ...], start: datetime, end: datetime) -> None:
    """Re-run VEE for meters over local days [from, to] (results replace earlier ones)."""
    from service.audit.log import CLI_ACTOR
    from service.unit_of_work import unit_of_work
    from service.vee.rerun import rerun_range

    with unit_of_work() as uow:
        try:
            summary = rerun_range(uow.session, CLI_ACTOR, list(serials), start.date(), end.date())
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        uow.commit()
    click.echo(summary.as_dict())


@vee_cli.command("determinants")
@click.option("--period", required=True, help="billing month YYYY-MM")
@click.option("--chunk", default=10_000, show_default=True, help="consumers per RQ job")
def determinants(period: str, chunk: int) -> None:
    """Compute and publish every consumer's determinants: one job per chunk on the bulk queue."""
    from service.extensions import db
    from service.vee.determinant_jobs import enqueue_period

    session = db.session()
    try:
        ranges = enqueue_period(session, period, chunk)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        session.rollback()
    click.echo(f"{period}: {len(ranges)} jobs queued on 'bulk' (chunks of up to {chunk:,} consumers)")


def register(app: Flask) -> None:
    app.cli.add_command(rules_cli)
    app.cli.add_command(vee_cli)
