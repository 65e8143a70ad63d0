"""The rules in force in this process, kept in step with the files and with the database.

Every use refreshes (at most every `RELOAD_SECONDS`): a changed valid file takes effect and is
audited with its unified diff once across all processes (the `vee_rule_files` row holds the
version in force); an invalid one is refused, audited once, and the previous version stays.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from rules.book import Change, RuleBook, unified_diff
from rules.loader import RULES_DIR, RuleSet, load_text
from service.audit.log import Actor, record
from service.vee.models import RuleFile

KEY = "cmdms.vee.rulebook"
RELOAD_SECONDS = 2.0
ACTOR = Actor("system", "rules-reload")
SYNC_LOCK_KEY = 0x7EE5_0001  # pg_advisory_xact_lock key of rule-file recording


def use_directory(app: Flask, directory: Path, reload_seconds: float = RELOAD_SECONDS) -> RuleBook:
    """Serve rules from `directory` (the repository's rules/ by default)."""
    book = RuleBook(directory)
    app.extensions[KEY] = {"book": book, "checked": 0.0, "every": reload_seconds, "seeded": False}
    return book


def _state(app: Flask) -> dict[str, object]:
    if KEY not in app.extensions:
        use_directory(app, RULES_DIR)
    state: dict[str, object] = app.extensions[KEY]
    return state


def rule_sets(session: Session, data_kind: str | None = None) -> list[RuleSet]:
    """Rule sets in force for a data kind, after picking up any change on disk."""
    state = _state(current_app)
    book = state["book"]
    assert isinstance(book, RuleBook)
    every = float(state["every"])  # type: ignore[arg-type]
    if time.monotonic() - float(state["checked"]) >= every:  # type: ignore[arg-type]
        sync(session, book, seed=not state["seeded"])
        state["checked"], state["seeded"] = time.monotonic(), True
    return book.rule_sets(data_kind)


def reload_now(session: Session) -> list[Change]:
    """Pick up rule file changes at once (a POST or the reload job; the caller commits)."""
    state = _state(current_app)
    book = state["book"]
    assert isinstance(book, RuleBook)
    changes = sync(session, book, seed=not state["seeded"])
    state["checked"], state["seeded"] = time.monotonic(), True
    return changes


def recorded_rule_sets(session: Session) -> list[RuleSet]:
    """The rule sets in force as recorded in the database, for reads: they never reload a file
    (a changed file is picked up by the reload job or a POST) and write nothing."""
    rows = session.execute(
        select(RuleFile.file, RuleFile.content).where(RuleFile.content.is_not(None)).order_by(RuleFile.file)
    ).all()
    loaded = (load_text(row.content, row.file).rule_set for row in rows)
    return [rule_set for rule_set in loaded if rule_set is not None]


def sync(session: Session, book: RuleBook, seed: bool = False) -> list[Change]:
    """Refresh the book from disk and record what changed (the caller commits).

    Read without locks: the usual case (nothing changed) must not serialize the VEE jobs of
    several workers on these rows until their commits. Only when there is something to record
    does it take a transaction lock and read the rows again, so two processes that load the
    same new file at once record it once instead of both inserting it.
    """
    rows = {r.file: r for r in session.scalars(select(RuleFile))}
    if seed:
        for stored in rows.values():
            if stored.content is not None and stored.file not in book.in_force:
                book.seed(stored.file, stored.content)
    changes = book.refresh()
    # A fresh process seeded from the database: files that match it are not changes.
    for name, in_force in book.in_force.items():
        row = rows.get(name)
        if (row is None or row.sha256 != in_force.sha256) and not any(c.file == name for c in changes):
            changes.append(Change("loaded", name, in_force.sha256))
    if not changes:
        return changes
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SYNC_LOCK_KEY})
    rows = {
        r.file: r
        for r in session.scalars(select(RuleFile).with_for_update().execution_options(populate_existing=True))
    }
    for change in changes:
        _record(session, rows, change)
    return changes


def _record(session: Session, rows: dict[str, RuleFile], change: Change) -> None:
    found = rows.get(change.file)
    if found is None:
        found = RuleFile(file=change.file)
        session.add(found)
        rows[change.file] = found
    row = found
    now = datetime.now(UTC)
    if change.kind == "refused":
        if row.refused_sha256 == change.sha256:
            return
        row.refused_sha256, row.refused_errors = change.sha256, [str(e) for e in change.errors]
        record(
            session,
            ACTOR,
            "rules.refused",
            "rule_file",
            change.file,
            {"sha256": row.sha256},
            {"sha256": change.sha256, "errors": [str(e) for e in change.errors]},
        )
        return
    if row.sha256 == (None if change.kind == "removed" else change.sha256):
        return  # another process already recorded this version
    book_text = "" if change.kind == "removed" else _text(change)
    diff = unified_diff(row.content or "", book_text, change.file)
    record(
        session,
        ACTOR,
        f"rules.{change.kind}",
        "rule_file",
        change.file,
        {"sha256": row.sha256},
        {"sha256": None if change.kind == "removed" else change.sha256, "diff": diff},
    )
    row.sha256 = None if change.kind == "removed" else change.sha256
    row.content = None if change.kind == "removed" else book_text
    row.loaded_at, row.refused_sha256, row.refused_errors = now, None, None


def _text(change: Change) -> str:
    state = _state(current_app)
    book = state["book"]
    assert isinstance(book, RuleBook)
    return book.in_force[change.file].text
