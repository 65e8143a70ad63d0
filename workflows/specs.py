"""Process definitions: BPMN files parsed once per content hash, with what the app needs to know.

A definition is identified by the SHA-256 of its file content, so an instance keeps running
on the version it started on after an analyst edits the file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask, UserTask

from workflows.scripting import ScriptNotAllowed, check_script

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")
MAX_FILE_BYTES = 2 * 1024 * 1024


class AsyncServiceTask(ServiceTask):  # type: ignore[misc]
    """A service task whose operation runs later on a worker: the task stays STARTED until then."""

    def _execute(self, task: Any) -> bool | None:
        result = task.workflow.script_engine.call_service(
            task, operation_name=self.operation_name, operation_params=self.evaluate_params(task)
        )
        if result is None:
            return None
        task.data[self.result_variable] = json.loads(result)
        return True


class CmdmsBpmnParser(SpiffBpmnParser):  # type: ignore[misc]
    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        "{%s}serviceTask" % BPMN_NS: (ServiceTaskParser, AsyncServiceTask),  # noqa: UP031
    }


class DefinitionError(ValueError):
    """A process file that cannot be used; `problems` name file, element and reason."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Problem:
    file_name: str
    element_id: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file_name}:{self.element_id}" if self.element_id else self.file_name
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class UserTaskInfo:
    bpmn_id: str
    name: str
    lane: str | None
    form_schema: dict[str, Any] | None
    due_in: str | None  # ISO 8601 duration, e.g. P3D
    priority: int
    bulk_actions: dict[str, dict[str, Any]]  # "approve" / "reject" -> form data


@dataclass(frozen=True)
class ProcessDefinition:
    process_id: str
    name: str
    file_name: str
    spec_hash: str
    xml: str
    spec: Any = field(repr=False)
    subprocess_specs: dict[str, Any] = field(repr=False)
    user_tasks: dict[str, UserTaskInfo]
    service_operations: dict[str, str]  # element id -> operation name
    element_names: dict[str, str]
    # Whether any element waits on a timer / a message: without them an instance can have no
    # timer rows / message waits, and advancing it need not look for any.
    has_timers: bool = True
    has_messages: bool = True


def content_hash(xml: str) -> str:
    return hashlib.sha256(xml.encode("utf-8")).hexdigest()


def spec_hash(spec: Any, subprocess_specs: dict[str, Any]) -> str:
    """A version's identity: the parsed process (tasks, flows, scripts, forms, timers), not the
    file's bytes, so moving a shape in the modeller or renaming the file forks no version."""
    registry = _spec_registry()
    parsed = {
        "spec": registry.convert(spec),
        "subprocess_specs": {name: registry.convert(sub) for name, sub in sorted(subprocess_specs.items())},
    }
    text = json.dumps(_without_file_names(parsed), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def _spec_registry() -> Any:
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter

    return BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, AsyncServiceTask: ServiceTaskConverter})


def _without_file_names(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_file_names(v) for k, v in value.items() if k != "file"}
    if isinstance(value, list):
        return [_without_file_names(v) for v in value]
    return value


def parse_definitions(xml: str, file_name: str, check_scripts: bool = True) -> list[ProcessDefinition]:
    """Parse one BPMN file into its executable processes; raises DefinitionError."""
    if len(xml.encode("utf-8")) > MAX_FILE_BYTES:
        raise DefinitionError([Problem(file_name, "", f"file is larger than {MAX_FILE_BYTES} bytes")])
    try:
        # Refuse DTDs, entities and external references before lxml sees the file.
        SafeET.fromstring(xml.encode("utf-8"), forbid_dtd=True)
    except Exception as exc:  # noqa: BLE001 - any refusal is reported the same way
        raise DefinitionError([Problem(file_name, "", f"not acceptable XML: {exc}")]) from None
    parser = CmdmsBpmnParser(validator=VALIDATOR)
    try:
        doc = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        parser.add_bpmn_xml(doc, file_name)
        process_ids = parser.get_process_ids()
        if not process_ids:
            raise DefinitionError([Problem(file_name, "", 'no executable process (isExecutable="true")')])
        built = []
        for process_id in process_ids:
            spec = parser.get_spec(process_id)
            subprocess_specs = parser.get_subprocess_specs(process_id)
            built.append((process_id, spec, subprocess_specs))
    except DefinitionError:
        raise
    except Exception as exc:  # noqa: BLE001 - SpiffWorkflow raises several kinds; all are parse errors
        element = getattr(exc, "id", "") or ""
        line = getattr(exc, "line_number", "")
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if line:
            message = f"line {line}: {message}"
        raise DefinitionError([Problem(file_name, element, message)]) from None
    definitions = []
    for process_id, spec, subprocess_specs in built:
        digest = spec_hash(spec, subprocess_specs)
        definitions.append(
            _describe(process_id, spec, subprocess_specs, xml, file_name, digest, check_scripts)
        )
    return definitions


def _describe(
    process_id: str,
    spec: Any,
    subprocess_specs: dict[str, Any],
    xml: str,
    file_name: str,
    digest: str,
    check_scripts: bool,
) -> ProcessDefinition:
    user_tasks: dict[str, UserTaskInfo] = {}
    operations: dict[str, str] = {}
    names: dict[str, str] = {}
    problems: list[Problem] = []
    for task_spec in _all_task_specs(spec, subprocess_specs):
        bpmn_id = getattr(task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue
        names[bpmn_id] = task_spec.bpmn_name or bpmn_id
        extensions = getattr(task_spec, "extensions", {}) or {}
        if isinstance(task_spec, UserTask):
            try:
                user_tasks[bpmn_id] = _user_task_info(task_spec, extensions)
            except ValueError as exc:
                problems.append(Problem(file_name, bpmn_id, str(exc)))
        elif isinstance(task_spec, ServiceTask):
            operations[bpmn_id] = task_spec.operation_name
        if check_scripts:
            problems += _script_problems(task_spec, file_name, bpmn_id)
    if problems:
        raise DefinitionError(problems)
    event_kinds = {kind for _, kind in _event_kinds(spec, subprocess_specs)}
    return ProcessDefinition(
        process_id=process_id,
        name=spec.description or process_id,
        file_name=file_name,
        spec_hash=digest,
        xml=xml,
        spec=spec,
        subprocess_specs=subprocess_specs,
        user_tasks=user_tasks,
        service_operations=operations,
        element_names=names,
        has_timers="timer" in event_kinds,
        has_messages="message" in event_kinds,
    )


def _all_task_specs(spec: Any, subprocess_specs: dict[str, Any]) -> list[Any]:
    specs = list(spec.task_specs.values())
    for sub in subprocess_specs.values():
        specs += list(sub.task_specs.values())
    return specs


def _user_task_info(task_spec: Any, extensions: dict[str, Any]) -> UserTaskInfo:
    props: dict[str, str] = extensions.get("properties", {}) or {}
    raw_schema = extensions.get("formJsonSchema")
    schema = None
    if raw_schema and raw_schema.strip():
        try:
            schema = json.loads(raw_schema)
        except json.JSONDecodeError as exc:
            raise ValueError(f"formJsonSchema is not JSON: {exc}") from None
        if not isinstance(schema, dict) or schema.get("type") != "object":
            raise ValueError('formJsonSchema must be a JSON Schema object with "type": "object"')
    due_in = props.get("dueIn")
    if due_in and not ISO_DURATION.match(due_in):
        raise ValueError(f"dueIn {due_in!r} is not an ISO 8601 duration such as P3D or PT4H")
    try:
        priority = int(props.get("priority", "3"))
    except ValueError:
        raise ValueError(f"priority {props.get('priority')!r} is not an integer") from None
    bulk: dict[str, dict[str, Any]] = {}
    for action, prop in (("approve", "bulkApprove"), ("reject", "bulkReject")):
        if prop in props:
            try:
                value = json.loads(props[prop])
            except json.JSONDecodeError as exc:
                raise ValueError(f"{prop} is not JSON: {exc}") from None
            if not isinstance(value, dict):
                raise ValueError(f"{prop} must be a JSON object of form values")
            bulk[action] = value
    return UserTaskInfo(
        bpmn_id=task_spec.bpmn_id,
        name=task_spec.bpmn_name or task_spec.bpmn_id,
        lane=task_spec.lane,
        form_schema=schema,
        due_in=due_in,
        priority=priority,
        bulk_actions=bulk,
    )


def _script_problems(task_spec: Any, file_name: str, bpmn_id: str) -> list[Problem]:
    """Check scripts and conditions at load time, so a forbidden import is caught before it runs."""
    sources: list[tuple[str, str]] = []
    if getattr(task_spec, "script", None):
        sources.append((task_spec.script, "exec"))
    for attr in ("prescript", "postscript"):
        if getattr(task_spec, attr, None):
            sources.append((getattr(task_spec, attr), "exec"))
    for cond, _ in getattr(task_spec, "cond_task_specs", None) or []:
        expression = getattr(cond, "args", [None])[0] if cond is not None else None
        if isinstance(expression, str):
            sources.append((expression, "eval"))
    problems = []
    for source, mode in sources:
        try:
            check_script(source, mode)
        except ScriptNotAllowed as exc:
            problems.append(Problem(file_name, bpmn_id, f"script not allowed: {exc}"))
        except SyntaxError as exc:
            problems.append(Problem(file_name, bpmn_id, f"script syntax error, line {exc.lineno}: {exc.msg}"))
    return problems


def timer_and_message_ids(definition: ProcessDefinition) -> dict[str, str]:
    """Element id -> "timer" | "message" for every catching event (used by the diagram)."""
    return dict(_event_kinds(definition.spec, definition.subprocess_specs))


def _event_kinds(spec: Any, subprocess_specs: dict[str, Any]) -> list[tuple[str, str]]:
    kinds: list[tuple[str, str]] = []
    for task_spec in _all_task_specs(spec, subprocess_specs):
        event_definition = getattr(task_spec, "event_definition", None)
        if isinstance(event_definition, TimerEventDefinition):
            kinds.append((task_spec.bpmn_id, "timer"))
        elif isinstance(event_definition, MessageEventDefinition):
            kinds.append((task_spec.bpmn_id, "message"))
    return kinds


class ProcessLibrary:
    """Definitions by spec hash, and the current definition of each process id."""

    def __init__(self) -> None:
        self.by_hash: dict[tuple[str, str], ProcessDefinition] = {}
        self.current: dict[str, ProcessDefinition] = {}
        self.files: dict[str, str] = {}  # process id -> file path
        self._parsed: dict[tuple[str, bool], list[ProcessDefinition]] = {}  # (content hash, checked)

    def add_xml(
        self, xml: str, file_name: str, make_current: bool = True, check_scripts: bool = True
    ) -> list[ProcessDefinition]:
        definitions = self._parse(xml, file_name, check_scripts)
        self._register(definitions, file_name, make_current)
        return definitions

    def add_file(self, path: Path) -> list[ProcessDefinition]:
        return self.add_xml(path.read_text(encoding="utf-8"), str(path))

    def add_directory(self, directory: Path) -> list[ProcessDefinition]:
        """All of the folder's files or none: one broken file leaves the library as it was."""
        parsed: list[tuple[str, list[ProcessDefinition]]] = []
        problems: list[Problem] = []
        for path in sorted(directory.glob("*.bpmn")):
            try:
                parsed.append((str(path), self._parse(path.read_text(encoding="utf-8"), str(path), True)))
            except DefinitionError as exc:
                problems += exc.problems
        if problems:
            raise DefinitionError(problems)
        for file_name, definitions in parsed:
            self._register(definitions, file_name, make_current=True)
        return [d for _, definitions in parsed for d in definitions]

    def _parse(self, xml: str, file_name: str, check_scripts: bool) -> list[ProcessDefinition]:
        key = (content_hash(xml), check_scripts)  # a file seen before is not parsed again
        if key not in self._parsed:
            self._parsed[key] = parse_definitions(xml, file_name, check_scripts)
        return self._parsed[key]

    def _register(self, definitions: list[ProcessDefinition], file_name: str, make_current: bool) -> None:
        for definition in definitions:
            self.by_hash.setdefault((definition.spec_hash, definition.process_id), definition)
            if make_current:
                self.current[definition.process_id] = definition
                self.files[definition.process_id] = file_name

    def get(self, process_id: str, spec_hash: str | None = None) -> ProcessDefinition:
        if spec_hash is None:
            if process_id not in self.current:
                raise KeyError(f"unknown process {process_id!r}")
            return self.current[process_id]
        return self.by_hash[(spec_hash, process_id)]

    def add_stored(self, xml: str, file_name: str, process_id: str, stored_hash: str) -> ProcessDefinition:
        """A stored version, also under the hash it was stored with (instances started before
        versions were hashed by their parsed spec carry the file's content hash)."""
        found = [d for d in self.add_xml(xml, file_name, make_current=False) if d.process_id == process_id]
        if not found:
            raise KeyError(f"the stored XML has no process {process_id!r}")
        self.by_hash.setdefault((stored_hash, process_id), found[0])
        return found[0]

    def has(self, process_id: str, spec_hash: str) -> bool:
        return (spec_hash, process_id) in self.by_hash
