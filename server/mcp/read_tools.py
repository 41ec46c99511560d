"""The registry's read tools as MCP tools, generated: schema, description and effect come from the
one declaration in `tools/`, and each call goes through `Registry.run` (argument checks, error
mapping, the summary's token budget) exactly as the agent's calls do.

Every read tool is relative to an instant (DESIGN §3.2). The agent takes its incident's `as_of`; an
MCP client passes `as_of` beside the tool's own arguments, or gets now.
"""

from __future__ import annotations

from collections.abc import Mapping

import anyio.to_thread
import mcp_types as types
from pydantic import AwareDatetime, JsonValue, TypeAdapter, ValidationError

from server.auth import Principal
from server.mcp.catalog import READ_ONLY, McpTool, schema_of
from server.mcp.door import Door
from server.mcp.results import from_tool_result, refused
from tools.contract import ToolSpec
from tools.registry import Registry

AS_OF = "as_of"
AS_OF_SCHEMA: dict[str, JsonValue] = {
    "type": "string",
    "format": "date-time",
    "description": "the instant to look at, RFC 3339 (e.g. an incident's as_of); default: now",
}
_INSTANT: TypeAdapter[AwareDatetime | None] = TypeAdapter(AwareDatetime | None)


def read_tools(registry: Registry) -> list[McpTool]:
    """One MCP tool per read tool of the registry, in the registry's order (action tools are proposed
    through propose_action, never called)."""
    return [_read_tool(spec) for spec in registry.specs if spec.effect == "read"]


def input_schema(spec: ToolSpec) -> dict[str, JsonValue]:
    """The tool's own input schema, with the optional `as_of` every read tool takes over MCP."""
    schema = schema_of(spec.input_model)
    properties = schema.setdefault("properties", {})
    if not isinstance(properties, dict) or AS_OF in properties:
        raise ValueError(f"read tool {spec.name} declares its own {AS_OF!r}: MCP cannot add the instant")
    properties[AS_OF] = AS_OF_SCHEMA
    return schema


def _read_tool(spec: ToolSpec) -> McpTool:
    async def run(door: Door, caller: Principal, raw: Mapping[str, object]) -> types.CallToolResult:
        args = dict(raw)
        try:
            as_of = _INSTANT.validate_python(args.pop(AS_OF, None))
        except ValidationError as exc:
            why = exc.errors()[0]["msg"]
            return refused(
                f"invalid arguments for {spec.name}: as_of: {why}", door.context.config.summary_max_tokens
            )
        context = door.context_at(as_of)
        result = await anyio.to_thread.run_sync(door.registry.run, spec.name, args, context)
        return from_tool_result(result)

    return McpTool(spec.name, spec.description, input_schema(spec), READ_ONLY, "viewer", run)
