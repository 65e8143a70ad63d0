"""Sample files and a fixed 'now' for the pure parser tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SAMPLES = Path(__file__).resolve().parent / "samples"
# 2026-11-28T21:00:00Z: after every sample's timestamps, before the deliberately future ones.
NOW = int(np.datetime64("2026-11-28T21:00:00", "s").astype(np.int64))


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.fixture
def now() -> int:
    return NOW


def utc(text: str) -> np.datetime64:
    return np.datetime64(text, "s")


def reasons(batch: object) -> list[tuple[str, str, str]]:
    return [(r.locator, r.field, r.reason) for r in batch.rejects]  # type: ignore[attr-defined]
