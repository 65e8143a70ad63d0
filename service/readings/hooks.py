"""Validators run on every stored batch (VEE registers itself here from its init_app)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

# validator(session, batch_id): runs inside the `batch_stored` job's transaction; it must be
# idempotent (the job may run twice) and must not commit.
Validator = Callable[[Session, int], None]

VALIDATORS: list[Validator] = []


def register_validator(validator: Validator) -> None:
    if validator not in VALIDATORS:
        VALIDATORS.append(validator)
