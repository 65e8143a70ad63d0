"""Instance state as JSON without the process spec (kept once per definition, by content hash)."""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter

from workflows.specs import AsyncServiceTask, ProcessDefinition


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Leaves the spec out of the state (about half its size) and takes live specs back in."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        from uuid import UUID

        spec = dct.pop("spec")
        subprocess_specs = dct.pop("subprocess_specs")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[AsyncServiceTask] = ServiceTaskConverter
    config[BpmnWorkflow] = SpecFreeWorkflowConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


SERIALIZER = _build_serializer()


def dump_state(workflow: BpmnWorkflow) -> str:
    dct = SERIALIZER.to_dict(workflow)
    dct[SERIALIZER.VERSION_KEY] = SERIALIZER.VERSION
    return json.dumps(dct, separators=(",", ":"))


def load_state(serialized: str, definition: ProcessDefinition) -> BpmnWorkflow:
    dct = json.loads(serialized)
    SERIALIZER.migrate(dct)
    dct["spec"] = definition.spec
    dct["subprocess_specs"] = definition.subprocess_specs
    workflow: BpmnWorkflow = SERIALIZER.from_dict(dct)
    return workflow
