"""Readings: the measurement store, the one ingest path, quarantine and the read API."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def init_app(app: Flask) -> None:
    from service.extensions import api, csrf
    from service.masterdata.hooks import on_subjects_created
    from service.ops.periodic import register_periodic
    from service.readings import amr_drop, jobs, models  # noqa: F401  (registers the tables)
    from service.readings import api as readings_api
    from service.readings import cli as readings_cli

    on_subjects_created(jobs.request_replay)  # readings that arrived before their meter

    csrf.exempt(readings_api.bp)
    api.register_blueprint(readings_api.bp)
    csrf.exempt(readings_api.held)
    api.register_blueprint(readings_api.held)
    from service.readings import views
    from service.web.nav import register_nav

    app.register_blueprint(views.bp)
    register_nav("Quarantine", "readings_pages.quarantine_page", roles=views.VIEW_ROLES, order=70)
    register_nav("Event types", "readings_pages.event_types_page", roles=views.VIEW_ROLES, order=71)
    app.cli.add_command(cim_cli)
    app.cli.add_command(readings_cli.amr_cli)
    register_periodic(
        "readings.amr_drop_scan", amr_drop.SCAN_EVERY_SECONDS, jobs.scan_amr_drop, queue="ingest"
    )
    from service.readings import adapters_http  # adapters: HTTP pushes and the AMR drop folder

    adapters_http.init_app(app)
    register_periodic("readings.partitions_ahead", 24 * 3600, jobs.create_partitions_ahead)
    register_periodic("readings.replay_quarantine", 300, jobs.replay_quarantine, queue="ingest")
    register_periodic("readings.requeue_stored_batches", 600, jobs.requeue_stored_batches)
    # Picks up a saved change of the CIM event-type mapping file (re-read when it changed).
    register_periodic("readings.reclassify_event_types", 300, jobs.reclassify_event_types, queue="ingest")


cim_cli = AppGroup("cim", help="IEC 61968-9 (CIM) adapters.")


@cim_cli.command("reclassify-events")
def reclassify_events_command() -> None:
    """Move stored events of CIM types the mapping file now names to their IS 15959 code."""
    from service.readings import jobs

    done = jobs.reclassify_event_types()
    click.echo(f"reclassified {done['events']} events of {done['types']} newly mapped types")
