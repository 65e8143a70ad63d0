"""Validators run on every stored batch (VEE registers itself here from its init_app)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

# validator(session, batch_id): runs inside the `batch_stored` job's transaction; it must be
# idempotent (the job may run twice) and must not commit.
Validator = Callable[[Session, int], None]

VALIDATORS: list[Validator] = []


@dataclass(frozen=True)
class NewIntervals:
    """A batch's interval rows about to be copied as new keys (sorted by meter, channel, end)."""

    batch_id: int
    meter_ids: npt.NDArray[np.int64]
    channels: tuple[str, ...]  # channel_codes index this (0-based)
    channel_codes: npt.NDArray[np.int64]
    ends_s: npt.NDArray[np.int64]  # UTC epoch seconds
    values: npt.NDArray[np.float64]
    minutes: npt.NDArray[np.int64]


@dataclass(frozen=True)
class Validated:
    """What an ingest validator decided: each row's quality, and the writes to make once the
    rows are stored (failures, estimates, cases) in the same transaction."""

    quality: npt.NDArray[Any]  # quality name per row of NewIntervals
    after_store: Callable[[], None]


# ingest_validator(session, rows): reads only; None when the rows are left to the VEE job.
IngestValidator = Callable[[Session, NewIntervals], Validated | None]

INGEST_VALIDATORS: list[IngestValidator] = []


def register_validator(validator: Validator) -> None:
    if validator not in VALIDATORS:
        VALIDATORS.append(validator)


def register_ingest_validator(validator: IngestValidator) -> None:
    if validator not in INGEST_VALIDATORS:
        INGEST_VALIDATORS.append(validator)


# events_listener(session, batch_id, codes): called inside the ingest transaction after a batch's
# meter events are merged (`codes`: the IS 15959 codes in it). It must not do the work there:
# it registers an after-commit effect (`service.unit_of_work`) so ingest is never held up.
EventsListener = Callable[[Session, int, frozenset[int]], None]

EVENTS_LISTENERS: list[EventsListener] = []


def on_events_stored(listener: EventsListener) -> None:
    if listener not in EVENTS_LISTENERS:
        EVENTS_LISTENERS.append(listener)
