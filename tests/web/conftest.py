"""Fixtures for page tests: the process fixtures, and a rule directory with one refused file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from rules.book import touch_later
from rules.loader import RULES_DIR
from tests.processes.conftest import discom, org, processes_app  # noqa: F401  (shared fixtures)


@pytest.fixture
def refused_rule_file(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """smart-interval.yaml loaded, then edited to an unknown rule type: refused, old rules stay."""
    from service.extensions import db
    from service.vee import rulebook

    for path in RULES_DIR.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    rulebook.use_directory(app, tmp_path, reload_seconds=0)
    rulebook.rule_sets(db.session())
    db.session.commit()
    broken = tmp_path / "smart-interval.yaml"
    broken.write_text(broken.read_text().replace("type: spike", "type: spikes"))
    touch_later(broken)
    rulebook.rule_sets(db.session())
    db.session.commit()
    yield broken
    rulebook.use_directory(app, RULES_DIR)
