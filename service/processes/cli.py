"""`flask workflows check`: validate every process file, naming file and element; exit 1 on error."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from service.processes.library import WORKFLOWS_DIR, workflows
from service.processes.operations import SERVICE_OPERATIONS
from workflows.check import check_files


def register(app: Flask) -> None:
    group = click.Group("workflows", help="BPMN process files.")

    @group.command("check")
    @click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
    def check(paths: tuple[Path, ...]) -> None:
        """Check process files (default: every *.bpmn in workflows/)."""
        files: list[Path] = []
        for path in paths or (WORKFLOWS_DIR,):
            files += sorted(path.glob("*.bpmn")) if path.is_dir() else [path]
        problems = check_files(files, SERVICE_OPERATIONS, workflows(app).groups)
        for problem in problems:
            click.echo(f"ERROR {problem}", err=True)
        click.echo(f"{len(files)} file(s) checked, {len(problems)} problem(s)")
        if problems:
            raise SystemExit(1)

    app.cli.add_command(group)
