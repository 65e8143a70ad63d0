"""What other areas do when master data creates subjects (readings replays its quarantine).

Areas register here in their init_app, so master data does not import them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

# fn(session): runs in the upsert's transaction when meters, feeders or DTRs were created.
SUBJECTS_CREATED: list[Callable[[Session], None]] = []


def on_subjects_created(fn: Callable[[Session], None]) -> None:
    if fn not in SUBJECTS_CREATED:
        SUBJECTS_CREATED.append(fn)


def subjects_created(session: Session) -> None:
    for fn in list(SUBJECTS_CREATED):
        fn(session)
