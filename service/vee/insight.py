"""Rule insight: every rule in force with its hits per day and per org unit, and its failures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.types import Date

from service.auth.principal import Principal
from service.auth.scoping import scope_to_org
from service.masterdata import Meter
from service.orgs import OrgUnit
from service.vee import rulebook
from service.vee.models import RuleFile, VeeFailure


def rules_with_hits(session: Session, principal: Principal, days: int = 30) -> list[dict[str, Any]]:
    since = datetime.now(UTC) - timedelta(days=days)
    local_day = cast(func.timezone("Asia/Kolkata", VeeFailure.ts), Date)
    base = scope_to_org(select(VeeFailure.rule_id), VeeFailure.org_unit_id, principal).where(
        VeeFailure.ts > since
    )
    per_day = session.execute(
        base.add_columns(local_day.label("day"), func.count())
        .group_by(VeeFailure.rule_id, "day")
        .order_by("day")
    ).all()
    per_org = session.execute(
        base.add_columns(OrgUnit.code, func.count())
        .join(OrgUnit, OrgUnit.id == VeeFailure.org_unit_id)
        .group_by(VeeFailure.rule_id, OrgUnit.code)
        .order_by(OrgUnit.code)
    ).all()
    out = []
    for rule_set in rulebook.recorded_rule_sets(session):
        for rule in rule_set.rules:
            days_ = {str(d): n for r, d, n in per_day if r == rule.id}
            orgs = {code: n for r, code, n in per_org if r == rule.id}
            out.append(
                {
                    "id": rule.id,
                    "name": rule.name,
                    "type": rule.type,
                    "rule_set": rule_set.name,
                    "file": rule_set.file,
                    "data_kind": rule_set.data_kind,
                    "severity": rule.severity,
                    "action": rule.action,
                    "enabled": rule.enabled,
                    "parameters": rule.parameters,
                    "scope": {"meter_class": list(rule_set.meter_classes), **rule.scope.as_dict()},
                    "hits": sum(days_.values()),
                    "hits_per_day": days_,
                    "hits_per_org_unit": orgs,
                }
            )
    return out


def failures_query(principal: Principal, rule_id: str) -> Select[Any]:
    """(VeeFailure, meter serial) rows of one rule in the principal's area, unordered."""
    stmt = scope_to_org(
        select(VeeFailure, Meter.serial_number).join(Meter, Meter.id == VeeFailure.meter_id),
        VeeFailure.org_unit_id,
        principal,
    )
    return stmt.where(VeeFailure.rule_id == rule_id)


def failures_of(
    session: Session, principal: Principal, rule_id: str, limit: int = 200
) -> list[dict[str, Any]]:
    rows = session.execute(
        failures_query(principal, rule_id).order_by(VeeFailure.ts.desc()).limit(limit)
    ).all()
    return [
        {
            "meter_id": f.meter_id,
            "meter": serial,
            "ts": f.ts.isoformat(),
            "ts_end": f.ts_end.isoformat() if f.ts_end else None,
            "value_seen": f.value_seen,
            "reference_value": f.reference_value,
            "details": f.details,
            "parameters": f.parameters,
            "data_kind": f.data_kind,
            "severity": f.severity,
        }
        for f, serial in rows
    ]


_ERROR_AT = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<reason>.*)$", re.S)


def refused_files(session: Session) -> list[dict[str, Any]]:
    """Rule files whose newest version was refused: file, line and reason of each error, since when.
    The version before stays in force."""
    from service.audit.log import latest_at

    rows = session.scalars(
        select(RuleFile).where(RuleFile.refused_sha256.is_not(None)).order_by(RuleFile.file)
    ).all()
    since = latest_at(session, "rules.refused", "rule_file", [r.file for r in rows])
    out = []
    for row in rows:
        errors = []
        for text in row.refused_errors or []:
            match = _ERROR_AT.match(text)
            errors.append(
                {"line": int(match["line"]), "reason": match["reason"]}
                if match
                else {"line": None, "reason": text}
            )
        out.append({"file": row.file, "errors": errors, "since": since.get(row.file), "in_force": row.sha256})
    return out
