"""Replacements as billing and URJAS send them: one as JSON, or many as a CSV file, each row
checked with its reason, good rows applied in time order (each in a savepoint), bad rows named."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from service.assets.csv_rows import ImportRefused, read_rows
from service.assets.lifecycle import IllegalTransition
from service.assets.replacement import Outcome, ReplacementReport, record_scalar_replacement
from service.assets.replacement_checks import Refusal
from service.assets.schemas import ReplacementCreate
from service.audit.log import Actor

MAX_ROWS = 1_000
COLUMNS = ("ivrs_number", "old_meter_serial", "new_meter_serial", "replaced_at", "final_kwh", "initial_kwh")
OPTIONAL = ("photo_ref",)


@dataclass
class ImportResult:
    accepted: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": len(self.accepted), "duplicates": len(self.duplicates), "rejected": len(self.rejects),
            "replacements": self.accepted + self.duplicates, "rejects": sorted(self.rejects, key=lambda r: r["row"]),
        }  # fmt: skip


def load_report(raw: Any) -> tuple[ReplacementReport, str] | list[Refusal]:
    """(report, kind) or the refusals of each bad field."""
    if not isinstance(raw, dict):
        return [Refusal("", "invalid_row", "each row must be an object")]
    if any(isinstance(v, str) and "\x00" in v for v in raw.values()):
        return [Refusal("", "invalid_row", "a value holds a NUL character")]
    try:
        data = ReplacementCreate().load(raw)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
        return [Refusal(str(name), "invalid_field", str(msgs[0] if isinstance(msgs, list) else msgs))
                for name, msgs in sorted(messages.items())]  # fmt: skip
    kind = data.pop("kind")
    return ReplacementReport(**data), kind


def apply_one(
    session: Session, report: ReplacementReport, actor: Actor, now: datetime, visible_orgs: set[int] | None
) -> Outcome:
    """One replacement in a savepoint: a refusal (or an illegal asset move) leaves nothing behind."""
    savepoint = session.begin_nested()
    try:
        outcome = record_scalar_replacement(session, report, actor, now, visible_orgs)
    except IllegalTransition as exc:
        outcome = Outcome(refusals=[Refusal("new_meter_serial", "illegal_asset_move", str(exc))])
    if outcome.ok and not outcome.duplicate:
        savepoint.commit()
    else:
        savepoint.rollback()
    return outcome


def _reject(result: ImportResult, row: int, refusals: list[Refusal]) -> None:
    result.rejects.extend(
        {"row": row, "field": r.field, "error": r.error, "message": r.message} for r in refusals
    )


def apply_rows(
    session: Session, rows: list[Any], actor: Actor, now: datetime, visible_orgs: set[int] | None
) -> ImportResult:
    """Check every row, then apply the good ones in time order (a file need not be sorted: a meter
    put on in one row and taken off in a later-dated row works in either order)."""
    result = ImportResult()
    good: list[tuple[int, ReplacementReport]] = []
    seen: dict[tuple[str, datetime], int] = {}
    for n, raw in enumerate(rows):
        loaded = load_report(raw)
        if isinstance(loaded, list):
            _reject(result, n, loaded)
            continue
        report, kind = loaded
        if kind != "scalar":
            _reject(
                result, n, [Refusal("kind", "not_scalar", "a file carries scalar -> scalar replacements")]
            )
            continue
        key = (report.old_meter_serial, report.replaced_at)
        if key in seen:
            _reject(result, n, [Refusal("old_meter_serial", "duplicate_in_file", f"same as row {seen[key]}")])
            continue
        seen[key] = n
        good.append((n, report))
    for n, report in sorted(good, key=lambda item: (item[1].replaced_at, item[0])):
        outcome = apply_one(session, report, actor, now, visible_orgs)
        if not outcome.ok:
            _reject(result, n, outcome.refusals)
            continue
        entry = {"row": n, "replacement_id": outcome.replacement_id, "duplicate": outcome.duplicate}
        (result.duplicates if outcome.duplicate else result.accepted).append(entry)
    return result


def take_csv(
    session: Session, body: bytes, actor: Actor, now: datetime, visible_orgs: set[int] | None
) -> ImportResult:
    """A URJAS or billing CSV of replacements; refused whole (ImportRefused) when it cannot be
    read or every row is rejected (the caller rolls back)."""
    rows = read_rows(body, COLUMNS, OPTIONAL, MAX_ROWS)
    result = apply_rows(session, rows, actor, now, visible_orgs)
    if not result.accepted and not result.duplicates:
        raise ImportRefused(
            422, "all_rows_rejected", "Every row was rejected; nothing was stored.",
            rejected=len(result.rejects), rejects=result.as_dict()["rejects"],
        )  # fmt: skip
    return result
