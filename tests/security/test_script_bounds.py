"""Issue 20 item 11: process scripts are bounded in CPU and memory. What the checker can see is
refused by `flask workflows check`; the rest is stopped at run time and becomes an incident."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from workflows.script_bounds import ScriptBudgetExceeded
from workflows.scripting import RestrictedEnvironment, ScriptNotAllowed, check_script

HERE = Path(__file__).resolve().parent


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = ((9**64)**64)**64", "line 1: nested '**' is not allowed"),
        (
            "for i in range(100000):\n    for j in range(100000):\n        pass",
            "line 1: nested loops of 10,000,000,000 steps, over the limit of 1,000,000",
        ),
        ("s = [i * j for i in range(100000) for j in range(100000)]", "nested loops of 10,000,000,000 steps"),
        (
            "def f(n):\n    return f(n - 1) + f(n - 1)\nx = f(40)",
            "line 1: recursive functions are not allowed",
        ),
        (
            'x = "x" * 100000 * 100000',
            "line 1: this builds 10,000,000,000 items, over the limit of 1,000,000",
        ),
        ("x = [0] * (10**10)", "line 1: this builds 10,000,000,000 items"),
    ],
)
def test_the_checker_refuses_runaway_scripts_it_can_see(source: str, message: str) -> None:
    with pytest.raises(ScriptNotAllowed, match=re.escape(message)):
        check_script(source)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a = 9**64\nb = a**64\nc = b**64", "an integer of 831,040 bits is over the limit of 100,000 bits"),
        (
            "for i in range(n):\n    for j in range(n):\n        pass",
            "more than 1,000,000 loop steps and calls",
        ),
        (
            "g = lambda h, k: h(h, k - 1) + h(h, k - 1) if k else 1\nx = g(g, 40)",
            "more than 1,000,000 loop steps",
        ),
        ('s = "x" * n\nt = s * n', "a sequence of 10,000,000,000 items is over the limit of 1,000,000 items"),
        (
            "big = 10**10\nx = [0] * big",
            "a sequence of 10,000,000,000 items is over the limit of 1,000,000 items",
        ),
        ("s = 'x'\nfor i in range(40):\n    s = s + s", "a sequence of 1,048,576 items is over the limit"),
        ("rows = [[0] * n for i in range(n)]", "the script built more than 10,000,000 items"),
    ],
)
def test_what_the_checker_cannot_see_is_stopped_at_run_time(source: str, message: str) -> None:
    check_script(source)  # passes the static check
    with pytest.raises(ScriptBudgetExceeded, match=re.escape(message)):
        RestrictedEnvironment().execute(source, {"n": 100_000})


def test_ordinary_scripts_and_conditions_still_run_with_their_data() -> None:
    env = RestrictedEnvironment()
    data: dict[str, Any] = {"readings": [1.5, 2.5, 3.0], "name": "Ramesh"}
    env.execute(
        "total = sum(readings)\nlabels = [name + ':' + str(i) for i in range(3)]\n"
        "def double(x):\n    return x * 2\ndoubled = [double(r) for r in readings]\nbig = 2**64",
        data,
    )
    assert (data["total"], data["labels"], data["doubled"], data["big"]) == (
        7.0, ["Ramesh:0", "Ramesh:1", "Ramesh:2"], [3.0, 5.0, 6.0], 2**64,
    )  # fmt: skip
    assert env.evaluate("total > 5 and name == 'Ramesh'", data) is True


def test_a_start_request_for_a_runaway_process_answers_with_an_incident(
    processes_app: Any, discom: Any, client: Any, make_api_key: Any
) -> None:
    from service.extensions import db
    from service.processes.library import workflows
    from service.processes.models import Incident, ProcessInstance

    library = workflows(processes_app)
    if HERE / "processes" not in library.directories:
        library.add_directory(HERE / "processes")
    answer = client.post(
        "/api/v1/processes",
        json={"process_id": "runaway_script", "org_unit_code": "BPLC", "data": {"n": 100_000}},
        headers=make_api_key("workflows:write"),
    )
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["status"] == "incident"
    instance = db.session.get(ProcessInstance, answer.get_json()["instance_id"])
    assert instance is not None and "more than 1,000,000 loop steps" in (instance.error or "")
    [incident] = db.session.scalars(select(Incident)).all()
    assert (incident.instance_id, incident.bpmn_id, incident.status) == (instance.id, "count", "open")


def test_flask_workflows_check_refuses_a_process_file_with_a_visible_runaway_script(
    app: Any, tmp_path: Path
) -> None:
    source = (HERE / "processes" / "runaway_script.bpmn").read_text()
    visible = source.replace("for i in range(n):", "for i in range(100000):").replace(
        "for j in range(n):", "for j in range(100000):"
    )
    (tmp_path / "visible.bpmn").write_text(visible)
    result = app.test_cli_runner().invoke(args=["workflows", "check", str(tmp_path / "visible.bpmn")])
    assert result.exit_code != 0
    assert "nested loops of 10,000,000,000 steps" in result.output
    hidden = app.test_cli_runner().invoke(
        args=["workflows", "check", str(HERE / "processes" / "runaway_script.bpmn")]
    )
    assert hidden.exit_code == 0, hidden.output
