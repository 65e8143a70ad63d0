"""Running process instances: `start` and `advance(state, event) -> (state, effects)`.

Pure: no database, no clock other than SpiffWorkflow's own for timers. The caller persists
the state and applies the effects (work items, service calls, timer rows, message waits).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from workflows.scripting import RestrictedScriptEngine, ScriptNotAllowed
from workflows.serialization import dump_state, load_state
from workflows.specs import AsyncServiceTask, ProcessDefinition, ProcessLibrary


class EngineError(ValueError):
    """The event does not fit the instance (unknown task, task not ready, bad data)."""


@dataclass(frozen=True)
class WorkflowState:
    process_id: str
    spec_hash: str
    serialized: str


# Events -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompleteUserTask:
    task_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class ServiceResult:
    task_id: str
    result: dict[str, Any] | None


@dataclass(frozen=True)
class TimersDue:
    """Refresh timers: those whose time has passed fire."""


@dataclass(frozen=True)
class MessageArrived:
    name: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class RetryTask:
    """Run a task that failed (script error) again."""

    task_id: str


@dataclass(frozen=True)
class SkipTask:
    """Mark a failed or waiting engine task done without running it (an admin's decision)."""

    task_id: str
    data: dict[str, Any] = field(default_factory=dict)


Event = CompleteUserTask | ServiceResult | TimersDue | MessageArrived | RetryTask | SkipTask


# Effects ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReadyUserTask:
    task_id: str
    bpmn_id: str
    name: str
    lane: str | None
    form_schema: dict[str, Any] | None
    due_in: str | None
    priority: int
    data: dict[str, Any]


@dataclass(frozen=True)
class ServiceCall:
    task_id: str
    bpmn_id: str
    operation: str
    params: dict[str, Any]


@dataclass(frozen=True)
class PendingTimer:
    task_id: str
    bpmn_id: str
    fire_at: datetime


@dataclass(frozen=True)
class AwaitedMessage:
    task_id: str
    bpmn_id: str
    name: str
    correlation_key: str | None


@dataclass(frozen=True)
class StepRecord:
    task_id: str
    bpmn_id: str
    name: str
    kind: str  # task spec class, e.g. UserTask, ScriptTask
    state: str  # COMPLETED, or STARTED for a service task handed to a worker


@dataclass(frozen=True)
class TaskFailure:
    task_id: str
    bpmn_id: str
    message: str
    kind: str = "script"  # script | timer (an expression that gives no time)


@dataclass
class Effects:
    user_tasks: list[ReadyUserTask] = field(default_factory=list)
    service_calls: list[ServiceCall] = field(default_factory=list)  # new in this step
    timers: list[PendingTimer] = field(default_factory=list)  # all waiting timers
    messages: list[AwaitedMessage] = field(default_factory=list)  # all awaited messages
    completed: bool = False
    data: dict[str, Any] = field(default_factory=dict)
    history: list[StepRecord] = field(default_factory=list)
    failure: TaskFailure | None = None
    started_tasks: list[str] = field(default_factory=list)  # service tasks still running


class Engine:
    """Runs definitions from a library; one instance can serve every process and thread."""

    def __init__(self, library: ProcessLibrary) -> None:
        self.library = library

    def start(self, process_id: str, data: dict[str, Any]) -> tuple[WorkflowState, Effects]:
        definition = self.library.get(process_id)
        _check_data_keys(data)
        calls: list[ServiceCall] = []
        workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs)
        workflow.script_engine = _script_engine(workflow, calls)
        workflow.data.update(data)
        # The start event's task carries the start data into the process.
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        return self._run(definition, workflow, calls, lambda: None)

    def advance(self, state: WorkflowState, event: Event) -> tuple[WorkflowState, Effects]:
        definition = self.library.get(state.process_id, state.spec_hash)
        calls: list[ServiceCall] = []
        workflow = load_state(state.serialized, definition)
        # LIBRARY-NOTES: the script engine is not serialized; set it after every load.
        workflow.script_engine = _script_engine(workflow, calls)
        return self._run(definition, workflow, calls, lambda: _apply(workflow, event))

    def snapshot(self, state: WorkflowState) -> Effects:
        """What the instance waits for, without changing it."""
        definition = self.library.get(state.process_id, state.spec_hash)
        workflow = load_state(state.serialized, definition)
        workflow.script_engine = _script_engine(workflow, [])
        return _collect(definition, workflow, [], [], None)

    def _run(
        self, definition: ProcessDefinition, workflow: BpmnWorkflow, calls: list[ServiceCall], apply: Any
    ) -> tuple[WorkflowState, Effects]:
        history: list[StepRecord] = []
        failure = None

        def did_complete(task: Any) -> None:
            if task.task_spec.bpmn_id:  # internal joins and the root have no BPMN id
                history.append(_record(task))

        try:
            applied = apply()
            if applied is not None:
                history.append(_record(applied))
            workflow.do_engine_steps(did_complete_task=did_complete)
        except (WorkflowException, SpiffWorkflowException, ScriptNotAllowed) as exc:
            failed = _errored_task(workflow)
            failure = _timer_failure(workflow, exc) if failed is None else None
            failure = failure or TaskFailure(
                task_id=str(failed.id) if failed else "",
                bpmn_id=failed.task_spec.bpmn_id if failed else "",
                message=_describe_error(exc),
            )
        except Exception as exc:
            # SpiffWorkflow raises plain ValueError / AttributeError for a timer value that is
            # no date, duration or cycle: that timer is the failure; anything else is a bug.
            failure = _timer_failure(workflow, exc)
            if failure is None:
                raise
        if failure is None:
            failure = _timer_failure(workflow)  # evaluated fine but gave no time: never silent
        effects = _collect(definition, workflow, calls, history, failure)
        state = WorkflowState(definition.process_id, definition.spec_hash, dump_state(workflow))
        return state, effects


def _check_data_keys(data: dict[str, Any]) -> None:
    for key in data:
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("_"):
            raise EngineError(f"data key {key!r} must be a Python identifier not starting with '_'")


def _script_engine(workflow: BpmnWorkflow, calls: list[ServiceCall]) -> RestrictedScriptEngine:
    def on_call(task_id: str, operation: str, params: dict[str, Any]) -> None:
        task = workflow.get_task_from_id(_uuid(task_id))
        calls.append(ServiceCall(task_id, task.task_spec.bpmn_id, operation, params))
        return None  # STARTED: a worker runs the operation and reports back

    return RestrictedScriptEngine(on_service_call=on_call)


def _uuid(task_id: str) -> Any:
    from uuid import UUID

    try:
        return UUID(task_id)
    except ValueError:
        raise EngineError(f"task id {task_id!r} is not a UUID") from None


def _task(workflow: BpmnWorkflow, task_id: str) -> Any:
    try:
        return workflow.get_task_from_id(_uuid(task_id))
    except Exception:  # noqa: BLE001 - Spiff raises TaskNotFoundException or KeyError
        raise EngineError(f"no task {task_id} in this instance") from None


def _apply(workflow: BpmnWorkflow, event: Event) -> Any:
    """Apply the event; returns the task it completed (for the history), if any."""
    if isinstance(event, CompleteUserTask):
        task = _task(workflow, event.task_id)
        if not (task.task_spec.manual and task.state == TaskState.READY):
            raise EngineError(f"task {task.task_spec.bpmn_id} is not waiting for a person")
        _check_data_keys(event.data)
        task.set_data(**event.data)
        task.run()
        return task
    if isinstance(event, ServiceResult):
        task = _task(workflow, event.task_id)
        if not isinstance(task.task_spec, AsyncServiceTask) or task.state != TaskState.STARTED:
            raise EngineError(f"task {task.task_spec.bpmn_id} is not a running service task")
        task.data[task.task_spec.result_variable] = event.result or {}
        task.complete()
        return task
    if isinstance(event, TimersDue):
        workflow.refresh_timers()
        return None
    if isinstance(event, MessageArrived):
        workflow.catch(BpmnEvent(MessageEventDefinition(event.name), event.payload))
        return None
    if isinstance(event, RetryTask):
        task = _task(workflow, event.task_id)
        if task.state != TaskState.ERROR:
            raise EngineError(f"task {task.task_spec.bpmn_id} has not failed")
        workflow.reset_from_task_id(task.id)  # the public way back to runnable (inputs from its parent)
        return None
    if isinstance(event, SkipTask):
        task = _task(workflow, event.task_id)
        if task.state not in (TaskState.ERROR, TaskState.STARTED):
            raise EngineError(f"task {task.task_spec.bpmn_id} has neither failed nor is it running")
        task.data.update(event.data)
        task.complete()
        return task
    raise EngineError(f"unknown event {event!r}")


def _record(task: Any) -> StepRecord:
    spec = task.task_spec
    return StepRecord(
        str(task.id),
        spec.bpmn_id or "",
        spec.bpmn_name or spec.bpmn_id or "",
        type(spec).__name__,
        TaskState.get_name(task.state),
    )


def _errored_task(workflow: BpmnWorkflow) -> Any:
    errored = workflow.get_tasks(state=TaskState.ERROR)
    return errored[0] if errored else None


def _describe_error(exc: Exception) -> str:
    inner = getattr(exc, "exception", None)
    if isinstance(inner, ScriptNotAllowed):
        return f"Script not allowed: {inner}"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:1000]


def _collect(
    definition: ProcessDefinition,
    workflow: BpmnWorkflow,
    calls: list[ServiceCall],
    history: list[StepRecord],
    failure: TaskFailure | None,
) -> Effects:
    effects = Effects(service_calls=calls, history=history, failure=failure, completed=workflow.completed)
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        info = definition.user_tasks.get(task.task_spec.bpmn_id)
        effects.user_tasks.append(
            ReadyUserTask(
                task_id=str(task.id),
                bpmn_id=task.task_spec.bpmn_id,
                name=info.name if info else task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                lane=task.task_spec.lane,
                form_schema=info.form_schema if info else None,
                due_in=info.due_in if info else None,
                priority=info.priority if info else 3,
                data=_plain(task.data),
            )
        )
    for task in workflow.get_tasks(state=TaskState.STARTED):
        if isinstance(task.task_spec, AsyncServiceTask):
            effects.started_tasks.append(str(task.id))
    for task in list(workflow.event_manager.tasks.values()):
        if not task.has_state(TaskState.WAITING):
            continue
        for task_id, spec, event_definition in _awaited(task):
            if isinstance(event_definition, TimerEventDefinition):
                effects.timers.append(
                    PendingTimer(task_id, spec.bpmn_id, _fire_time(event_definition.details(task).value))
                )
            elif isinstance(event_definition, MessageEventDefinition):
                effects.messages.append(
                    AwaitedMessage(
                        task_id, spec.bpmn_id, event_definition.name, _correlation_key(workflow, task, spec)
                    )
                )
    effects.data = _plain(
        workflow.data if workflow.completed else workflow.last_task.data if workflow.last_task else {}
    )
    return effects


def _fire_time(value: Any) -> datetime:
    """When a waiting timer fires; raises ValueError when its value gives no time."""
    if isinstance(value, dict):  # cycle timers: the next occurrence
        value = value.get("next")
    if not isinstance(value, str):
        raise ValueError(f"the timer's value {value!r} is not a time")
    try:
        fired: datetime = TimerEventDefinition.get_datetime(value)
    except Exception as exc:  # noqa: BLE001 - Spiff raises several kinds for a bad value
        raise ValueError(f"the timer's value {value!r} is not a time: {exc}") from None
    return fired


def _timer_failure(workflow: BpmnWorkflow, raised: Exception | None = None) -> TaskFailure | None:
    """The first reached timer whose expression fails or gives no time, put in ERROR so an admin
    can retry (after fixing the data) or skip it. `raised`: what the engine step raised, if any
    (the timer being entered is still FUTURE then)."""
    states = TaskState.WAITING
    if raised is not None:
        states |= TaskState.FUTURE | TaskState.READY
    for task in workflow.get_tasks(state=states):
        event_definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(event_definition, TimerEventDefinition):
            continue
        reached = task.has_state(TaskState.WAITING) or (
            task.parent and task.parent.has_state(TaskState.COMPLETED)
        )
        if not reached:
            continue  # its data may still come
        try:
            _fire_time(event_definition.details(task).value)
        except Exception as exc:  # noqa: BLE001 - whatever the expression did, it is this timer's failure
            task.error()
            reason = _describe_error(raised if raised is not None else exc)
            return TaskFailure(
                str(task.id), task.task_spec.bpmn_id, f"timer expression failed: {reason}", "timer"
            )
    return None


def _awaited(task: Any) -> list[tuple[str, Any, Any]]:
    """(task id, spec, event definition) of what a waiting task waits for: its own event, or
    for an event-based gateway each catching event after it (SpiffWorkflow moves those events
    into the gateway, in the order of its children; the first to happen wins)."""
    spec = task.task_spec
    if isinstance(spec, EventBasedGateway):
        inner = spec.event_definition.event_definitions
        return [(str(c.id), c.task_spec, d) for c, d in zip(task.children, inner, strict=False)]
    return [(str(task.id), spec, spec.event_definition)]


def _correlation_key(workflow: BpmnWorkflow, task: Any, spec: Any = None) -> str | None:
    spec = task.task_spec if spec is None else spec
    props = (getattr(spec, "extensions", {}) or {}).get("properties", {}) or {}
    expression = props.get("correlationKey")
    if not expression:
        return None
    value = workflow.script_engine.evaluate(task, expression)
    return None if value is None else str(value)


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """Task data as JSON values (dates become ISO strings)."""
    return json.loads(json.dumps(data, default=str))


def due_at(started: datetime, due_in: str | None) -> datetime | None:
    """The due time of a user task from its ISO 8601 `dueIn` duration."""
    if not due_in:
        return None
    duration = TimerEventDefinition.get_timedelta_from_start(
        TimerEventDefinition.parse_iso_duration(due_in), started
    )
    return started + (duration if isinstance(duration, timedelta) else timedelta(0))
