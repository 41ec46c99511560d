"""The MCP server over one `Door`, for every transport: tools, resources and the triage prompt.

`caller` says who sends each request (the HTTP gate's verified token, or the stdio process's one
identity). Every tool is listed to everyone; a call without the tool's role answers with the reason.
A tool's failure is a tool error the model can read (`isError`), never a protocol failure.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import anyio.to_thread
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, INVALID_REQUEST

from server.auth import Forbidden, Principal, Unauthorized
from server.mcp import cursor, prompts, resources
from server.mcp.catalog import McpTool, catalog
from server.mcp.door import Door
from server.mcp.results import refused
from server.problems import Conflict
from server.store.incidents import NotFound

log = logging.getLogger("medic.mcp")

Context = ServerRequestContext[Any, Any]
Caller = Callable[[Context], Principal]

INSTRUCTIONS = (
    "medic investigates incidents on Kubernetes. Read tools query metrics, traces, Kubernetes and logs as "
    "of an instant (as_of, default now). investigate opens an incident medic works on in the background; "
    "get_incident follows it and medic://incidents/{id} is its report. propose_action submits a change to "
    "medic's guard (policy, dry-run) and never executes it: approvers approve through medic's API or Slack. "
    "The triage prompt gives medic's investigation order."
)


def _version() -> str:
    try:
        return version("medic")
    except PackageNotFoundError:
        return "0"


def build_server(door: Door, caller: Caller) -> Server[Any]:
    tools = catalog(door)
    by_name = {tool.name: tool for tool in tools}
    declarations = [tool.declaration() for tool in tools]
    budget = door.context.config.summary_max_tokens

    def viewer(ctx: Context) -> Principal:
        principal = caller(ctx)
        if not principal.can("viewer") or "mcp" not in principal.scopes:
            raise MCPError(INVALID_REQUEST, f"{principal.subject} may not read medic's incidents over MCP")
        return principal

    async def list_tools(ctx: Context, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        shown, next_cursor = cursor.page(
            declarations, params.cursor if params else None, door.config.page_size
        )
        return types.ListToolsResult(tools=shown, next_cursor=next_cursor)

    async def call_tool(ctx: Context, params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = by_name.get(params.name)
        if tool is None:
            close = difflib.get_close_matches(params.name, by_name, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise MCPError(INVALID_PARAMS, f"no tool named {params.name!r}{hint}")
        return await _call(tool, caller(ctx), params.arguments or {})

    async def _call(tool: McpTool, principal: Principal, arguments: dict[str, Any]) -> types.CallToolResult:
        if not principal.can(tool.role) or "mcp" not in principal.scopes:
            roles = ", ".join(principal.roles) or "no role"
            return refused(
                f"{tool.name} needs the {tool.role} role; {principal.subject} has {roles} over MCP", budget
            )
        try:
            return await tool.run(door, principal, arguments)
        except NotFound as exc:
            return refused(f"no incident {exc.args[0]!r}: list_incidents shows the known ones", budget)
        except (Conflict, Forbidden, Unauthorized) as exc:
            return refused(str(exc), budget)
        except MCPError as exc:  # e.g. a cursor that is not ours, passed as a tool argument
            return refused(exc.message, budget)
        except Exception as exc:  # a bug or a dead database: said to the model, logged in full here
            log.exception("MCP tool %s failed", tool.name)
            return refused(f"{tool.name} failed ({type(exc).__name__}); medic's log has the details", budget)

    async def list_resources(
        ctx: Context, params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        viewer(ctx)
        return await anyio.to_thread.run_sync(resources.list_page, door, params.cursor if params else None)

    async def list_templates(
        ctx: Context, params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        viewer(ctx)
        return types.ListResourceTemplatesResult(resource_templates=resources.TEMPLATES)

    async def read_resource(
        ctx: Context, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        viewer(ctx)
        return await resources.read(door, str(params.uri))

    async def list_prompts(
        ctx: Context, params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=[prompts.PROMPT])

    async def get_prompt(ctx: Context, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        if params.name != prompts.NAME:
            raise MCPError(INVALID_PARAMS, f"no prompt named {params.name!r}; medic has {prompts.NAME!r}")
        return prompts.render(door.registry, params.arguments)

    def input_schema(name: str) -> dict[str, Any] | None:
        """For the SDK's check of `Mcp-Param-*` headers, without walking tools/list page by page."""
        tool = by_name.get(name)
        return dict(tool.input_schema) if tool else None

    return Server(
        "medic",
        version=_version(),
        title="medic",
        instructions=INSTRUCTIONS,
        get_tool_input_schema=input_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
    )
