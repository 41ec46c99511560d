"""Design rules for every registered tool (STYLE §8): an effect, a description, a JSON schema, and
action tools that only ever return an ActionRequest."""

from __future__ import annotations

import json
import typing

import pytest

from tools.contract import ToolResult
from tools.registry import default_registry

SPECS = default_registry().specs


def test_the_default_registry_lists_the_read_tools() -> None:
    names = {s.name for s in SPECS}
    assert {"golden_signals", "workload_saturation", "prom_query", "kube_workload", "pod_logs"} <= names


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_tool_declares_effect_description_and_schema(spec) -> None:  # type: ignore[no-untyped-def]
    assert spec.effect in ("read", "action")
    assert len(spec.description) > 40, "the docstring is the model's only description of the tool"
    schema = spec.json_schema()
    json.dumps(schema)  # serialisable as sent to a model
    function = schema["function"]
    assert function["name"] == spec.name
    assert function["parameters"]["type"] == "object"
    for prop in function["parameters"].get("properties", {}).values():
        assert "type" in prop or "anyOf" in prop or "$ref" in prop or "enum" in prop


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_read_tools_return_tool_results_and_action_tools_action_requests(spec) -> None:  # type: ignore[no-untyped-def]
    returns = typing.get_type_hints(spec.fn)["return"]
    if spec.effect == "read":
        assert returns is ToolResult
    else:
        from tools.action_request import ActionRequest

        assert returns is ActionRequest
