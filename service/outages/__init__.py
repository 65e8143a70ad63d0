"""Outages: inferred from stored power-fail/restore events through the correlation rules, as
they arrive (the stream after each committed batch) and by the reconciling batch pass."""

from flask import Flask


def init_app(app: Flask) -> None:
    from service.ops.periodic import register_periodic
    from service.outages import jobs, models  # noqa: F401  (registers the tables)
    from service.readings.hooks import on_events_stored

    on_events_stored(jobs.on_events_stored)
    register_periodic("outages.reconcile", 300, jobs.reconcile)
