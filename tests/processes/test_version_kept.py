"""An instance finishes on the version it started on, through the real runtime: the BPMN file
changes, and the RQ worker that resumes the instance has loaded only the new file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from service.extensions import db
from service.processes.library import KEY, Workflows, workflows
from service.processes.runtime import advance_instance
from tests.processes.conftest import FLAKY, TEST_PROCESSES
from tests.processes.helpers import TEST_ACTOR, instance, open_items, start
from workflows.engine import CompleteUserTask, Engine
from workflows.specs import ProcessLibrary

V1 = (TEST_PROCESSES / "service_call.bpmn").read_text().replace('id="service_call"', 'id="versioned_call"')
# Version 2: the user task after the operation is another step.
V2 = (
    V1.replace('id="check" name="Check the result"', 'id="review" name="Review the result"')
    .replace('targetRef="check"', 'targetRef="review"')
    .replace('sourceRef="check"', 'sourceRef="review"')
    .replace("<bpmn:flowNodeRef>check<", "<bpmn:flowNodeRef>review<")
)


@pytest.fixture
def load_folder(processes_app: Flask) -> Iterator[Callable[[Path], Workflows]]:
    """What a process started now has loaded: the folder's files only (then the app's again)."""
    saved = workflows(processes_app)

    def load(folder: Path) -> Workflows:
        library = ProcessLibrary()
        loaded = Workflows(library, Engine(library), saved.groups, saved.webhooks)
        loaded.add_directory(folder)
        processes_app.extensions[KEY] = loaded
        return loaded

    yield load
    processes_app.extensions[KEY] = saved


def test_an_instance_started_on_version_1_finishes_on_version_1_after_the_file_changes(
    processes_app: Flask, tmp_path: Path, load_folder: Callable[[Path], Workflows], drain: Callable[[], int]
) -> None:
    assert V2 != V1 and "review" not in V1
    path = tmp_path / "versioned_call.bpmn"
    path.write_text(V1)
    v1 = load_folder(tmp_path).library.get("versioned_call").spec_hash
    old = start("versioned_call", {"label": "v1"})
    assert open_items(old) == []  # waiting on its service task (an outbox item)

    path.write_text(V2)  # the file changes; the worker restarts with only version 2 loaded
    v2 = load_folder(tmp_path).library.get("versioned_call")
    assert not workflows(processes_app).library.has("versioned_call", v1)
    drain()  # a real RQ worker runs the operation and resumes the instance from its stored XML
    assert FLAKY.calls[-1]["params"] == {"label": "v1"}
    [check] = open_items(old)
    assert (check.bpmn_id, instance(old).spec_hash) == ("check", v1)  # version 1's step

    advance_instance(db.session(), old, CompleteUserTask(check.task_id, {"note": "ok"}), TEST_ACTOR)
    db.session.commit()
    done = instance(old)
    assert (done.status, done.spec_hash) == ("completed", v1)

    new = start("versioned_call", {"label": "v2"})
    drain()
    assert [i.bpmn_id for i in open_items(new)] == ["review"]  # a new instance runs version 2
    assert instance(new).spec_hash == v2.spec_hash
