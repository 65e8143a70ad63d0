"""The app's process library: BPMN files from `workflows/`, candidate groups and webhook mappings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, current_app
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.processes.models import ProcessDefinitionVersion
from service.unit_of_work import collect_after_commit, collected
from workflows.engine import Engine
from workflows.specs import ProcessDefinition, ProcessLibrary

WORKFLOWS_DIR = Path(__file__).resolve().parent.parent.parent / "workflows"
KEY = "cmdms.workflows"
STORED_KEY = "cmdms.stored_definitions"


@dataclass(frozen=True)
class CandidateGroup:
    name: str
    role: str
    org_levels_up: int


@dataclass
class Workflows:
    library: ProcessLibrary
    engine: Engine
    groups: dict[str, CandidateGroup]
    webhooks: dict[str, dict[str, dict[str, Any]]]
    directories: list[Path] = field(default_factory=list)

    def add_directory(self, directory: Path) -> list[ProcessDefinition]:
        self.directories.append(directory)
        return self.library.add_directory(directory)


def load_groups(path: Path) -> dict[str, CandidateGroup]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        name: CandidateGroup(name, str(spec["role"]), int(spec.get("org_levels_up", 0)))
        for name, spec in raw.items()
    }


def load_webhooks(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(system): dict(events or {}) for system, events in raw.items()}


def build(directory: Path = WORKFLOWS_DIR) -> Workflows:
    library = ProcessLibrary()
    workflows = Workflows(
        library=library,
        engine=Engine(library),
        groups=load_groups(directory / "candidate_groups.yaml"),
        webhooks=load_webhooks(directory / "webhooks.yaml"),
    )
    workflows.add_directory(directory)
    return workflows


def workflows(app: Flask | None = None) -> Workflows:
    found: Workflows = (app or current_app).extensions[KEY]
    return found


def definition_for(session: Session, process_id: str, spec_hash: str) -> ProcessDefinition:
    """The definition an instance runs on, reloaded from its stored XML after a file change."""
    lib = workflows().library
    if not lib.has(process_id, spec_hash):
        row = session.get(ProcessDefinitionVersion, (spec_hash, process_id))
        if row is None:
            raise KeyError(f"no stored definition {process_id}@{spec_hash[:12]}")
        lib.add_stored(row.xml, row.file_name, process_id, spec_hash)
    return lib.get(process_id, spec_hash)


def store_definition(session: Session, definition: ProcessDefinition) -> None:
    """Keep the XML of a version once (an instance may need it after the file changed)."""
    key = definition.spec_hash + definition.process_id
    bind: Any = session.get_bind()
    database = str(bind.url)
    if (database, key) in _STORED or (database, key) in collected(session, STORED_KEY):
        return  # one round trip per version, not per start
    session.execute(
        insert(ProcessDefinitionVersion)
        .values(
            spec_hash=definition.spec_hash,
            process_id=definition.process_id,
            name=definition.name[:200],
            file_name=Path(definition.file_name).name[:300],
            xml=definition.xml,
        )
        .on_conflict_do_nothing()
    )
    # Known stored for good once the transaction commits; a rollback forgets them.
    collect_after_commit(session, STORED_KEY, (database, key), _STORED.update, group=None)


# Versions known to be stored, per database.
_STORED: set[tuple[str, str]] = set()
