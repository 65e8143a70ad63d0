"""The rules in force, reloaded from their directory without a restart.

`refresh()` re-reads files whose size or mtime changed; a file that validates replaces its
previous version (the change carries a unified diff); one that does not is refused with its
errors and the version already in force stays.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from rules.loader import RuleFileError, RuleSet, load_text


@dataclass(frozen=True)
class InForce:
    text: str
    sha256: str
    rule_set: RuleSet


@dataclass(frozen=True)
class Change:
    kind: str  # loaded | refused | removed
    file: str
    sha256: str
    diff: str = ""
    errors: tuple[RuleFileError, ...] = ()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def unified_diff(old: str, new: str, file: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{file}", f"b/{file}"
    )
    return "".join(lines)


@dataclass
class RuleBook:
    directory: Path
    in_force: dict[str, InForce] = field(default_factory=dict)
    _seen: dict[str, tuple[int, int]] = field(default_factory=dict)
    _refused: dict[str, str] = field(default_factory=dict)

    def rule_sets(self, data_kind: str | None = None) -> list[RuleSet]:
        sets = [f.rule_set for _, f in sorted(self.in_force.items())]
        return [s for s in sets if data_kind is None or s.data_kind == data_kind]

    def seed(self, file: str, text: str) -> bool:
        """Put a version recorded elsewhere (the database) in force, if it validates."""
        result = load_text(text, file)
        if result.rule_set is None:
            return False
        self.in_force[file] = InForce(text, sha256(text), result.rule_set)
        return True

    def refresh(self) -> list[Change]:
        changes: list[Change] = []
        present = {p.name: p for p in sorted(self.directory.glob("*.yaml"))}
        for name, path in present.items():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            stamp = (stat.st_mtime_ns, stat.st_size)
            if self._seen.get(name) == stamp and name in self.in_force:
                continue
            self._seen[name] = stamp
            text = path.read_text(encoding="utf-8")
            change = self._consider(name, text)
            if change is not None:
                changes.append(change)
        for name in sorted(set(self.in_force) - set(present)):
            old = self.in_force.pop(name)
            self._seen.pop(name, None)
            changes.append(Change("removed", name, old.sha256, unified_diff(old.text, "", name)))
        return changes

    def _consider(self, name: str, text: str) -> Change | None:
        digest = sha256(text)
        current = self.in_force.get(name)
        if current is not None and current.sha256 == digest:
            return None
        result = load_text(text, name)
        errors = list(result.errors)
        if result.rule_set is not None:
            errors += self._clashes(name, result.rule_set)
        if errors:
            if self._refused.get(name) == digest:
                return None
            self._refused[name] = digest
            return Change("refused", name, digest, errors=tuple(errors))
        assert result.rule_set is not None
        self._refused.pop(name, None)
        self.in_force[name] = InForce(text, digest, result.rule_set)
        return Change("loaded", name, digest, unified_diff(current.text if current else "", text, name))

    def _clashes(self, name: str, rule_set: RuleSet) -> list[RuleFileError]:
        owners = {r.id: f for f, v in self.in_force.items() if f != name for r in v.rule_set.rules}
        return [
            RuleFileError(name, r.line, f"rule id {r.id!r} is already defined in {owners[r.id]}")
            for r in rule_set.rules
            if r.id in owners
        ]


def touch_later(path: Path) -> None:
    """Advance a file's mtime (tests and editors that write twice within a clock tick)."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
