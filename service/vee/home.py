"""Home panel of the VEE area for analysts: rule hits of the last 7 days and refused rule files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.auth.principal import Principal
from service.vee import insight


def rule_hits(session: Session, principal: Principal, now: datetime) -> dict[str, Any] | None:
    rules = insight.rules_with_hits(session, principal, 7)
    top = sorted((r for r in rules if r["hits"]), key=lambda r: -r["hits"])[:8]
    refused = insight.refused_files(session)
    return {"top": top, "refused": refused, "rules": len(rules)}
