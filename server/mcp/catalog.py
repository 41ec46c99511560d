"""The MCP tool catalog: one declaration per tool, from which MCP's list and call are generated.

Read tools come from the registry itself (`server.mcp.read_tools`): a new read tool in
`tools.registry.default_registry` is an MCP tool without any change here. The door's own tools
(incidents, propose_action) are declared the registry's way: a typed function whose pydantic input
model is the schema and whose docstring is the description.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar, cast

import mcp_types as types
from pydantic import BaseModel, JsonValue, ValidationError

from server.auth import Principal, RouteRole
from server.mcp.door import Door
from server.mcp.results import problems, refused

M = TypeVar("M", bound=BaseModel)
Run = Callable[[Door, Principal, Mapping[str, object]], Awaitable[types.CallToolResult]]

READ_ONLY = types.ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=True)


@dataclass(frozen=True)
class McpTool:
    name: str
    description: str
    input_schema: dict[str, JsonValue]
    annotations: types.ToolAnnotations
    role: RouteRole  # the least role that may call it (viewer ⊂ responder ⊂ approver)
    run: Run

    def declaration(self) -> types.Tool:
        return types.Tool(
            name=self.name,
            description=self.description,
            input_schema=dict(self.input_schema),
            annotations=self.annotations,
        )


def schema_of(model: type[BaseModel]) -> dict[str, JsonValue]:
    """The input model's JSON schema as the registry gives it to a planner (no model title)."""
    schema: dict[str, JsonValue] = model.model_json_schema()
    schema.pop("title", None)
    return schema


def door_tool(
    fn: Callable[[Door, Principal, M], Awaitable[types.CallToolResult]],
    *,
    role: RouteRole,
    annotations: types.ToolAnnotations,
) -> McpTool:
    """Declare a door tool from `fn(door, caller, args)`: its name, docstring and the model of `args`."""
    params = list(inspect.signature(fn).parameters)
    if len(params) != 3:
        raise TypeError(f"door tool {fn.__name__} must take (door, caller, args)")
    model = typing.get_type_hints(fn)[params[2]]
    description = inspect.getdoc(fn)
    if not (isinstance(model, type) and issubclass(model, BaseModel)) or not description:
        raise TypeError(f"door tool {fn.__name__} needs a pydantic args model and a docstring")

    async def run(door: Door, caller: Principal, raw: Mapping[str, object]) -> types.CallToolResult:
        try:
            args = cast(M, model.model_validate(dict(raw)))
        except ValidationError as exc:
            return refused(problems(exc, fn.__name__), door.context.config.summary_max_tokens)
        return await fn(door, caller, args)

    return McpTool(fn.__name__, description, schema_of(model), annotations, role, run)


def catalog(door: Door) -> list[McpTool]:
    """Every MCP tool, in a stable order: the registry's read tools, the incident tools, propose_action."""
    from server.mcp.incident_tools import INCIDENT_TOOLS
    from server.mcp.propose import PROPOSE_TOOL
    from server.mcp.read_tools import read_tools

    tools = [*read_tools(door.registry), *INCIDENT_TOOLS, PROPOSE_TOOL]
    names = [t.name for t in tools]
    if len(set(names)) != len(names):
        raise ValueError(f"two MCP tools share a name: {sorted(n for n in names if names.count(n) > 1)}")
    return tools
