"""The demo discom: master data first, then each area's demo data (readings, processes, ...).

Areas add a step with `register_step(name, fn)`; fn(session, context) runs in the seeding
transaction, in registration order, after master data and users exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from service.masterdata.demo import DemoSummary, is_seeded, seed_masterdata, seed_users

__all__ = ["DemoContext", "is_seeded", "register_step", "seed_demo"]


@dataclass
class DemoContext:
    seed: int
    consumers: int
    summary: DemoSummary
    now: datetime  # the seed's clock: steps date their samples from it, never from the wall clock
    notes: list[str] = field(default_factory=list)


STEPS: list[tuple[str, Callable[[Session, DemoContext], Any]]] = []


def register_step(name: str, fn: Callable[[Session, DemoContext], Any]) -> None:
    if all(existing != name for existing, _ in STEPS):
        STEPS.append((name, fn))


@dataclass
class SeedResult:
    summary: DemoSummary
    notes: list[str]

    def describe(self) -> str:
        return "\n".join([self.summary.describe(), *self.notes])


def seed_demo(
    session: Session, consumers: int = 10_000, seed: int = 42, now: datetime | None = None
) -> SeedResult:
    from service.audit.log import Actor, record

    summary = seed_masterdata(session, consumers=consumers, seed=seed)
    seed_users(session, summary)
    context = DemoContext(seed=seed, consumers=consumers, summary=summary, now=now or datetime.now(UTC))
    for _, step in STEPS:
        step(session, context)
    record(
        session,
        Actor("cli", "demo-seed"),
        "seed",
        "demo",
        str(seed),
        None,
        {"consumers": consumers, "steps": [name for name, _ in STEPS]},
    )
    return SeedResult(summary, context.notes)
