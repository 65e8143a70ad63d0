"""Checks an analyst's process files before they are used: `flask workflows check` and start-up."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from workflows.specs import DefinitionError, Problem, ProcessDefinition, parse_definitions


def check_definition(
    definition: ProcessDefinition, operations: Collection[str], candidate_groups: Collection[str]
) -> list[Problem]:
    """Problems the parser cannot see: unknown operations, user tasks without a lane or a form."""
    problems = []
    for element_id, operation in sorted(definition.service_operations.items()):
        if operation not in operations:
            problems.append(
                Problem(definition.file_name, element_id, f"unknown service operation {operation!r}")
            )
    for element_id, task in sorted(definition.user_tasks.items()):
        if not task.lane:
            problems.append(
                Problem(
                    definition.file_name,
                    element_id,
                    "user task is in no lane (the lane names its candidate group)",
                )
            )
        elif candidate_groups and task.lane not in candidate_groups:
            problems.append(
                Problem(
                    definition.file_name, element_id, f"lane {task.lane!r} is not a known candidate group"
                )
            )
        if not task.form_schema:
            problems.append(
                Problem(definition.file_name, element_id, "user task has no spiffworkflow:formJsonSchema")
            )
    return problems


def check_files(
    paths: Collection[Path], operations: Collection[str], candidate_groups: Collection[str]
) -> list[Problem]:
    problems: list[Problem] = []
    for path in sorted(paths):
        try:
            definitions = parse_definitions(path.read_text(encoding="utf-8"), str(path))
        except DefinitionError as exc:
            problems += exc.problems
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), "", f"cannot read: {exc}"))
            continue
        for definition in definitions:
            problems += check_definition(definition, operations, candidate_groups)
    return problems
