"""Process versions are the parsed spec, not the file's bytes; folders load all or nothing;
a failing timer expression is a failure, never a silent drop; retry uses Spiff's public API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workflows.engine import CompleteUserTask, Engine, EngineError, RetryTask, SkipTask
from workflows.specs import DefinitionError, ProcessLibrary, parse_definitions

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent
FIELD_INSPECTION = ROOT / "workflows" / "field_inspection.bpmn"
TIMER_WAIT = HERE / "processes" / "timer_wait.bpmn"

TWO_STEPS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="https://cmdms.example.org/bpmn/tests">
  <bpmn:process id="two_steps" name="Two steps" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l1" name="field_officer"><bpmn:flowNodeRef>first</bpmn:flowNodeRef><bpmn:flowNodeRef>second</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="first" name="First"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="second" name="Second"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" />
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="second" />
    <bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""
# Version 2 drops the second step.
ONE_STEP = (
    TWO_STEPS.replace("<bpmn:flowNodeRef>second</bpmn:flowNodeRef>", "")
    .replace(
        '<bpmn:userTask id="second" name="Second"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>\n',
        "",
    )
    .replace('<bpmn:sequenceFlow id="f3" sourceRef="second" targetRef="end" />\n', "")
    .replace('targetRef="second"', 'targetRef="end"')
    .replace(
        "<bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>",
        "<bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>",
    )
)


def _library_with(xml: str) -> ProcessLibrary:
    library = ProcessLibrary()
    library.add_xml(xml, "test.bpmn")
    return library


def _hash(xml: str, file_name: str = "x.bpmn") -> str:
    return parse_definitions(xml, file_name)[0].spec_hash


def test_moving_a_shape_or_renaming_the_file_forks_no_version_but_a_changed_step_does() -> None:
    xml = FIELD_INSPECTION.read_text()
    moved = re.sub(r'(<dc:Bounds x=")(\d+)', lambda m: f"{m.group(1)}{int(m.group(2)) + 40}", xml, count=3)
    assert moved != xml
    assert _hash(moved, "elsewhere/renamed.bpmn") == _hash(xml, "field_inspection.bpmn")
    renamed_task = xml.replace('name="Post result to billing"', 'name="Send the result to billing"')
    assert renamed_task != xml and _hash(renamed_task) != _hash(xml)


def test_an_instance_started_on_version_1_finishes_on_version_1_after_the_file_changes() -> None:
    library = ProcessLibrary()
    [v1] = library.add_xml(TWO_STEPS, "two_steps.bpmn")
    engine = Engine(library)
    state, effects = engine.start("two_steps", {})
    [v2] = library.add_xml(ONE_STEP, "two_steps.bpmn")
    assert v2.spec_hash != v1.spec_hash and library.get("two_steps") is v2
    assert state.spec_hash == v1.spec_hash

    state, effects = engine.advance(state, CompleteUserTask(effects.user_tasks[0].task_id, {}))
    assert [t.bpmn_id for t in effects.user_tasks] == ["second"] and not effects.completed  # v1's step
    state, effects = engine.advance(state, CompleteUserTask(effects.user_tasks[0].task_id, {}))
    assert effects.completed and state.spec_hash == v1.spec_hash
    _, fresh = engine.start("two_steps", {})
    _, fresh = engine.advance(_, CompleteUserTask(fresh.user_tasks[0].task_id, {}))
    assert fresh.completed  # a new instance runs version 2


def test_loading_a_folder_is_all_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "a_good.bpmn").write_text(TWO_STEPS)
    (tmp_path / "b_broken.bpmn").write_text(TWO_STEPS.replace('targetRef="end"', 'targetRef="nowhere"'))
    library = ProcessLibrary()
    with pytest.raises(DefinitionError) as refused:
        library.add_directory(tmp_path)
    assert [p.file_name for p in refused.value.problems] == [str(tmp_path / "b_broken.bpmn")]
    assert library.current == {} and library.by_hash == {}
    (tmp_path / "b_broken.bpmn").unlink()
    assert [d.process_id for d in library.add_directory(tmp_path)] == ["two_steps"]


def _timer(expression: str, kind: str = "timeDuration") -> str:
    return TIMER_WAIT.read_text().replace(
        '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT1S"</bpmn:timeDuration>',
        f'<bpmn:{kind} xsi:type="bpmn:tFormalExpression">{expression}</bpmn:{kind}>',
    )


@pytest.mark.parametrize(
    ("kind", "data", "reason"),
    [
        ("timeDuration", {"wait_for": "soon"}, "Invalid duration"),
        ("timeDuration", {}, "Error evaluating expression 'wait_for'"),
        ("timeDate", {"wait_for": "2026-13-45"}, "month must be in 1..12"),
        ("timeDate", {"wait_for": 5}, "'int' object has no attribute 'upper'"),
        ("timeCycle", {"wait_for": "every day"}, "invalid literal for int()"),
    ],
)
def test_a_timer_whose_expression_fails_is_a_failure_of_that_timer(
    kind: str, data: dict, reason: str
) -> None:
    library = ProcessLibrary()
    library.add_xml(_timer("wait_for", kind), "timer_wait.bpmn")
    engine = Engine(library)
    state, effects = engine.start("timer_wait", data)
    assert effects.failure is not None, effects
    assert (effects.failure.kind, effects.failure.bpmn_id) == ("timer", "wait")
    assert (
        effects.failure.message.startswith("timer expression failed: ") and reason in effects.failure.message
    )
    assert effects.timers == [] and not effects.completed
    # Retrying with the same data fails the same way; skipping the timer moves the process on.
    _, again = engine.advance(state, RetryTask(effects.failure.task_id))
    assert again.failure is not None and again.failure.kind == "timer" and reason in again.failure.message
    _, skipped = engine.advance(state, SkipTask(effects.failure.task_id))
    assert skipped.failure is None and [h.bpmn_id for h in skipped.history][:1] == ["wait"]


def test_retry_runs_a_failed_script_again_through_the_public_api() -> None:
    library = ProcessLibrary()
    library.add_file(HERE / "hostile" / "runtime_script.bpmn")
    engine = Engine(library)
    state, effects = engine.start("runtime_script", {"total": 1, "count": 0})
    assert effects.failure is not None and "ZeroDivisionError" in effects.failure.message
    state, again = engine.advance(state, RetryTask(effects.failure.task_id))
    assert again.failure is not None and "ZeroDivisionError" in again.failure.message
    assert [h.bpmn_id for h in again.history] == []  # it ran and failed again: nothing completed
    running, waiting = Engine(_library_with(TWO_STEPS)).start("two_steps", {})
    with pytest.raises(EngineError, match="has not failed"):
        Engine(_library_with(TWO_STEPS)).advance(running, RetryTask(waiting.user_tasks[0].task_id))
    assert "_set_state" not in (ROOT / "workflows" / "engine.py").read_text()
