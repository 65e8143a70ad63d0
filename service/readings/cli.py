"""`flask amr ...`: the AMR drop folder from the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from service import app_config
from service.audit.log import Actor
from service.readings import amr_drop

amr_cli = AppGroup("amr", help="AMR drop folder.")


@amr_cli.command("scan")
@click.option(
    "--min-age", default=amr_drop.MIN_AGE_SECONDS, show_default=True, help="Seconds a file must be untouched."
)
def scan_command(min_age: float) -> None:
    """Ingest the CDF files waiting in the drop folder now."""
    for outcome in amr_drop.scan(
        app_config(current_app).amr_drop_dir, min_age_seconds=min_age, actor=Actor("cli", "amr-scan")
    ):
        summary = outcome.detail.get("message") or {
            k: outcome.detail.get(k) for k in ("stored", "unchanged", "revised", "quarantined", "rejected")
        }
        click.echo(f"{outcome.status:<9} {outcome.name}  {summary}")
