"""The engine alone: no database, no Flask (DESIGN "Layout")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workflows.check import check_files
from workflows.diagram import render_svg
from workflows.engine import CompleteUserTask, Engine, EngineError, ServiceResult, SkipTask
from workflows.scripting import RestrictedEnvironment, ScriptNotAllowed, check_script
from workflows.specs import DefinitionError, ProcessLibrary, parse_definitions

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent
FIELD_INSPECTION = ROOT / "workflows" / "field_inspection.bpmn"


@pytest.fixture
def engine() -> Engine:
    library = ProcessLibrary()
    library.add_file(FIELD_INSPECTION)
    library.add_directory(HERE / "processes")
    library.add_file(HERE / "hostile" / "runtime_script.bpmn")
    # A file that slipped past the load-time check must still fail safely when it runs.
    library.add_xml(
        (HERE / "hostile" / "script_import.bpmn").read_text(), "script_import.bpmn", check_scripts=False
    )
    return Engine(library)


def test_field_inspection_runs_to_the_billing_call_and_completes(engine: Engine) -> None:
    state, effects = engine.start("field_inspection", {"request_id": "R1", "ivrs_number": "N1"})
    [visit] = effects.user_tasks
    assert (visit.bpmn_id, visit.lane, visit.due_in, visit.priority) == (
        "field_visit",
        "field_officer",
        "P3D",
        2,
    )
    state, effects = engine.advance(
        state,
        CompleteUserTask(visit.task_id, {"findings": "ok", "meter_reading_kwh": 5, "photo_reference": None}),
    )
    [review] = effects.user_tasks
    state, effects = engine.advance(
        state, CompleteUserTask(review.task_id, {"decision": "approve", "remarks": None})
    )
    [call] = effects.service_calls
    assert call.operation == "billing.post" and call.params["path"] == "/inspections/results"
    assert call.params["body"]["meter_reading_kwh"] == 5 and not effects.completed
    state, effects = engine.advance(state, ServiceResult(call.task_id, {"billing_reference": "NGB-1"}))
    assert effects.completed and effects.data["billing_receipt"] == {"billing_reference": "NGB-1"}


def test_state_is_serialized_without_the_spec(engine: Engine) -> None:
    state, _ = engine.start("field_inspection", {"request_id": "R1", "ivrs_number": "N1"})
    assert '"spec"' not in state.serialized and len(state.serialized) < 6000


def test_events_that_do_not_fit_are_refused(engine: Engine) -> None:
    state, effects = engine.start("field_inspection", {"request_id": "R1", "ivrs_number": "N1"})
    with pytest.raises(EngineError, match="no task nope"):
        engine.advance(state, CompleteUserTask("nope", {}))
    with pytest.raises(EngineError, match="not a running service task"):
        engine.advance(state, ServiceResult(effects.user_tasks[0].task_id, {}))
    with pytest.raises(EngineError, match="must be a Python identifier"):
        engine.start("field_inspection", {"__builtins__": 1})


def test_script_task_that_imports_os_fails_safely_and_can_be_skipped(engine: Engine) -> None:
    state, effects = engine.start("script_import", {})
    assert effects.failure is not None and effects.failure.bpmn_id == "sneaky"
    assert "import statements are not allowed" in effects.failure.message
    assert "listing" not in effects.data and not effects.completed
    state, effects = engine.advance(state, SkipTask(effects.failure.task_id))
    assert effects.completed


def test_runtime_error_in_a_script_is_reported_with_the_step(engine: Engine) -> None:
    _, effects = engine.start("runtime_script", {"total": 1, "count": 0})
    assert effects.failure is not None and "ZeroDivisionError" in effects.failure.message


@pytest.mark.parametrize(
    "source",
    [
        "import os",
        "from os import path",
        "__import__('os')",
        "open('/etc/passwd')",
        "eval('1')",
        "exec('x = 1')",
        "().__class__.__subclasses__()",
        "x = [].__class__",
        "getattr(1, 'real')",
        "'{0.__class__}'.format(1)",
        "g = (i for i in []); g.gi_frame",
        "type(1)",
    ],
)
def test_restricted_scripts_refuse_imports_dunders_and_dangerous_builtins(source: str) -> None:
    with pytest.raises(ScriptNotAllowed):
        check_script(source)


def test_builtins_outside_the_safe_list_are_absent_even_if_the_check_were_bypassed() -> None:
    env = RestrictedEnvironment()
    assert "len" in env.globals["__builtins__"] and "open" not in env.globals["__builtins__"]
    with pytest.raises(NameError):
        exec("open('x')", {"__builtins__": env.globals["__builtins__"]})  # noqa: S102
    data: dict = {"values": [3, 1, 2]}
    env.execute("total = sum(values)\nbiggest = max(values)", data)
    assert (data["total"], data["biggest"]) == (6, 3) and "__builtins__" not in data


def test_check_names_file_and_element_for_each_problem(tmp_path: Path) -> None:
    bad = (HERE / "processes" / "service_call.bpmn").read_text()
    bad = bad.replace('id="test.flaky"', 'id="nobody.knows"').replace(
        "<spiffworkflow:formJsonSchema>", "<spiffworkflow:x>"
    )
    bad = bad.replace("</spiffworkflow:formJsonSchema>", "</spiffworkflow:x>")
    (tmp_path / "bad.bpmn").write_text(bad)
    (tmp_path / "broken.bpmn").write_text("<bpmn:definitions")
    (tmp_path / "imports.bpmn").write_text((HERE / "hostile" / "script_import.bpmn").read_text())
    problems = check_files(sorted(tmp_path.glob("*.bpmn")), {"test.flaky"}, {"field_officer"})
    found = {(Path(p.file_name).name, p.element_id, p.message.split(":")[0]) for p in problems}
    assert ("bad.bpmn", "call_op", "unknown service operation 'nobody.knows'") in found
    assert ("bad.bpmn", "check", "user task has no spiffworkflow") in found
    assert any(name == "broken.bpmn" for name, _, _ in found)
    assert ("imports.bpmn", "sneaky", "script not allowed") in found


def test_xml_bombs_are_refused_before_the_bpmn_parser_sees_them() -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><x>&b;</x>'
    with pytest.raises(DefinitionError, match="not acceptable XML"):
        parse_definitions(bomb, "bomb.bpmn")


def test_the_shipped_process_files_pass_the_check() -> None:
    files = sorted((ROOT / "workflows").glob("*.bpmn"))
    assert (
        files
        and check_files(
            files,
            {
                "billing.post",
                "notify.sms",
                "hes.disconnect",
                "disconnection.send",
                "reconnection.send",
                "replacement.commission",
                "replacement.switch",
                "atr.record_action",
                "atr.escalate",
                "atr.replace_meter",
                "outages.planned_notice",
                "prepaid.reconnect_if_due",
                "prepaid.recharge_notice",
            },  # fmt: skip
            {"field_officer", "supervisor", "control_centre"},
        )
        == []
    )


def test_diagram_highlights_the_current_step() -> None:
    svg = render_svg(FIELD_INSPECTION.read_text(), current={"supervisor_review"}, completed={"field_visit"})
    assert (
        svg.startswith("<svg")
        and 'data-element-id="supervisor_review" data-kind="userTask" data-state="current"' in svg
    )
    assert 'data-element-id="field_visit" data-kind="userTask" data-state="done"' in svg
    assert "Post result to" in svg and "<script" not in svg


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 10**10**10", "line 1: '**' needs a literal right operand of at most 64"),
        ("n = 5\nx = 2 ** n", "line 2: '**' needs a literal right operand of at most 64"),
        ("x = 1 << 1000000000", "line 1: '<<' needs a literal right operand of at most 64"),
        ("x = 3\nx **= 100", "line 2: '**' needs a literal right operand of at most 64"),
        ("while True:\n    pass", "line 1: while loops are not allowed"),
    ],
)
def test_scripts_that_could_run_away_are_refused_before_they_run(source: str, message: str) -> None:
    with pytest.raises(ScriptNotAllowed, match=re.escape(message)):
        check_script(source)


def test_ordinary_arithmetic_and_loops_still_run() -> None:
    env = RestrictedEnvironment()
    context: dict[str, object] = {"kwh": 12.5}
    env.execute("area = 2 ** 10\nsquares = [i ** 2 for i in range(5)]\nbill = round(kwh * 6.3, 2)", context)
    assert (context["area"], context["squares"], context["bill"]) == (1024, [0, 1, 4, 9, 16], 78.75)


def test_range_is_bounded_at_run_time() -> None:
    env = RestrictedEnvironment()
    with pytest.raises(Exception, match="range of 100001 items is over the limit of 100000"):
        env.execute("total = sum(range(100001))", {})


def test_an_event_based_gateway_waits_for_each_of_its_events_and_the_first_wins() -> None:
    from datetime import UTC, datetime

    from workflows.engine import MessageArrived

    library = ProcessLibrary()
    library.add_file(ROOT / "workflows" / "outage_notification.bpmn")
    engine = Engine(library)
    state, effects = engine.start("outage_notification", {"planned_outage_id": 7, "outage_key": "po:7"})
    notice = {"ends_at": "2031-01-01T08:30:00+00:00", "notified": 5}
    state, effects = engine.advance(state, ServiceResult(effects.service_calls[0].task_id, notice))
    assert [(t.bpmn_id, t.fire_at) for t in effects.timers] == [
        ("over", datetime(2031, 1, 1, 8, 30, tzinfo=UTC))
    ]
    assert [(m.bpmn_id, m.name, m.correlation_key) for m in effects.messages] == [
        ("changed", "planned_outage_changed", "po:7"),
        ("cancelled", "planned_outage_cancelled", "po:7"),
    ]
    state, effects = engine.advance(state, MessageArrived("planned_outage_cancelled", {}))
    assert [c.params["kind"] for c in effects.service_calls] == ["cancelled"]
    assert effects.timers == [] and effects.messages == []  # the others no longer wait
