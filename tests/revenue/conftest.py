"""Fixtures of the revenue-protection tests: the VEE test network (VC1 on smart meter VM1, VC3 on
scalar meter VS1, division BPLC-D1), the outbox drain, and helpers over the case tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from tests.processes.conftest import drain  # noqa: F401
from tests.vee.conftest import _rules_from_repository, discom, ingest, network  # noqa: F401


def principal(username: str) -> Any:
    from service.auth.models import User
    from service.auth.principal import for_user
    from service.extensions import db

    return for_user(db.session.scalar(select(User).where(User.username == username)))


def cases(session: Any) -> list[dict[str, Any]]:
    session.expire_all()
    return [
        dict(r)
        for r in session.execute(
            text(
                "SELECT id, consumer_id, meter_id, org_unit_id, status, first_rule_id, outcome,"
                " assessment_inr, instance_id, escalated_at, closed_at FROM atr_cases ORDER BY id"
            )
        ).mappings()
    ]


def evidence(session: Any) -> list[tuple[int, str, str]]:
    return [
        tuple(r)
        for r in session.execute(text("SELECT case_id, rule_id, source FROM atr_evidence ORDER BY id")).all()
    ]


def actions(session: Any, case_id: int) -> list[str]:
    return list(
        session.execute(
            text("SELECT action FROM atr_actions WHERE case_id = :c ORDER BY id"), {"c": case_id}
        ).scalars()
    )
