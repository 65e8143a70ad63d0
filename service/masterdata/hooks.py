"""What other areas do when master data creates subjects (readings replays its quarantine) or
changes installations (the aggregates recount scalar reads).

Areas register here in their init_app, so master data does not import them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

# fn(session): runs in the upsert's transaction when meters, feeders or DTRs were created.
SUBJECTS_CREATED: list[Callable[[Session], None]] = []


def on_subjects_created(fn: Callable[[Session], None]) -> None:
    if fn not in SUBJECTS_CREATED:
        SUBJECTS_CREATED.append(fn)


def subjects_created(session: Session) -> None:
    for fn in list(SUBJECTS_CREATED):
        fn(session)


# fn(session, meter_ids, since): runs in the upsert's transaction when installations of these
# meters opened or closed at or after `since` (the aggregates recount their scalar reads).
INSTALLATIONS_CHANGED: list[Callable[[Session, list[int], datetime], None]] = []


def on_installations_changed(fn: Callable[[Session, list[int], datetime], None]) -> None:
    if fn not in INSTALLATIONS_CHANGED:
        INSTALLATIONS_CHANGED.append(fn)


def installations_changed(session: Session, meter_ids: list[int], since: datetime) -> None:
    if meter_ids:
        for fn in list(INSTALLATIONS_CHANGED):
            fn(session, meter_ids, since)
