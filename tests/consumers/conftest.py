"""The consumption fixtures (RC1 with meters RA then RB, RC2, scalar RC3, on BPLC-D1) and events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from integrations.canonical import CanonicalBatch
from integrations.parsing import EventBuilder, now_epoch
from tests.consumption.conftest import (  # noqa: F401  (shared fixtures)
    ACTOR,
    _rules_from_repository,
    discom,
    ingest_and_validate,
    loaded,
    people,
)


@pytest.fixture
def store_events(session: Any) -> Callable[[list[tuple[str, int, datetime, datetime | None]]], None]:
    """Meter events (meter, IS 15959 code, occurred, restored) through the one ingest path."""
    from service.readings.ingest import ingest_batch

    def store(rows: list[tuple[str, int, datetime, datetime | None]]) -> None:
        events = EventBuilder()
        for i, (meter, code, occurred, restored) in enumerate(rows):
            events.add(f"[{i}]", meter, code, int(occurred.timestamp()),
                       int(restored.timestamp()) if restored else None)  # fmt: skip
        batch = CanonicalBatch(source="hes:TEST")
        batch.events = events.build(batch.rejects, now_epoch())
        result = ingest_batch(session(), batch, actor=ACTOR)
        assert not result.rejects, result.rejects
        session.commit()

    return store
