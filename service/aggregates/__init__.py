"""Aggregates every report reads: per meter per day/hour, per feeder/DT per day, per org unit
per day and month; kept current by `refresh` after each VEE run and network-energy ingest."""

from __future__ import annotations

from flask import Flask

from service.aggregates.reads import MeterDays, NetworkEnergy, meter_days, network_energy
from service.aggregates.refresh import (
    local_days_of,
    local_span,
    refresh,
    refresh_all_feeders,
    refresh_consumers_month,
    refresh_feeders,
)

__all__ = [
    "MeterDays",
    "NetworkEnergy",
    "meter_days",
    "network_energy",
    "local_days_of",
    "local_span",
    "refresh",
    "refresh_all_feeders",
    "refresh_consumers_month",
    "refresh_feeders",
]


def init_app(app: Flask) -> None:
    from service.aggregates import cli, jobs, models  # noqa: F401  (models registers the tables)
    from service.aggregates.refresh import refresh_batch_network
    from service.ops.periodic import register_periodic
    from service.readings.hooks import register_validator

    register_validator(refresh_batch_network)
    from service.aggregates.meters import refresh_scalar_reads
    from service.masterdata.hooks import on_installations_changed

    # A replacement sent as master data changes which installation later reads fall in.
    on_installations_changed(refresh_scalar_reads)
    # Master data can change links after the fact (a DT moved retroactively): the network-days
    # of the recent past are rebuilt nightly, so reports follow within a day.
    register_periodic("aggregates.network_recent", 86_400, jobs.rebuild_recent_network, queue="bulk")
    cli.register(app)
