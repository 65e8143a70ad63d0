"""Facts kept per definition and per script so that running an instance repeats no work."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.engine import Engine
from workflows.scripting import RestrictedEnvironment, ScriptNotAllowed
from workflows.specs import ProcessLibrary

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent


def _library() -> ProcessLibrary:
    library = ProcessLibrary()
    library.add_file(ROOT / "workflows" / "field_inspection.bpmn")
    library.add_directory(HERE / "processes")
    return library


def test_definitions_know_whether_they_wait_on_timers_or_messages() -> None:
    library = _library()
    facts = {
        process_id: (library.get(process_id).has_timers, library.get(process_id).has_messages)
        for process_id in ("field_inspection", "timer_wait", "timer_boundary", "message_wait", "service_call")
    }
    assert facts == {
        "field_inspection": (False, False),
        "timer_wait": (True, False),
        "timer_boundary": (True, False),
        "message_wait": (False, True),
        "service_call": (False, False),
    }


def test_a_refused_script_is_refused_every_time_not_remembered_as_checked() -> None:
    environment = RestrictedEnvironment()
    for _ in range(3):
        with pytest.raises(ScriptNotAllowed, match="import statements are not allowed"):
            environment.execute("import os\nlisting = os.listdir('/')", {})


def test_an_accepted_expression_still_sees_each_call_s_own_data() -> None:
    environment = RestrictedEnvironment()
    assert [environment.evaluate("amount * 2", {"amount": n}) for n in (1, 2, 3)] == [2, 4, 6]


def test_instances_started_one_after_another_get_their_own_state() -> None:
    engine = Engine(_library())
    first, first_effects = engine.start("field_inspection", {"request_id": "R1", "ivrs_number": "N1"})
    second, second_effects = engine.start("field_inspection", {"request_id": "R2", "ivrs_number": "N2"})
    assert first_effects.user_tasks[0].data["request_id"] == "R1"
    assert second_effects.user_tasks[0].data["request_id"] == "R2"
    assert first_effects.user_tasks[0].task_id != second_effects.user_tasks[0].task_id
    assert first.serialized != second.serialized
