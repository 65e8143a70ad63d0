"""Start-up check of the loaded process files (the same rules as `flask workflows check`)."""

from __future__ import annotations

from flask import Flask

from service.processes.library import workflows
from service.processes.operations import SERVICE_OPERATIONS
from workflows.check import check_definition
from workflows.specs import DefinitionError


def check_loaded(app: Flask) -> None:
    wf = workflows(app)
    problems = []
    for definition in wf.library.current.values():
        problems += check_definition(definition, SERVICE_OPERATIONS, wf.groups)
    if problems:
        raise DefinitionError(problems)
