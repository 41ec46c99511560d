"""Tool answers as MCP results: structured content for code, the bounded summary as text for a model.

A tool that fails (bad PromQL, an unknown service, a refusal by role or policy) answers with
`isError: true` and the message, so the model reads it and can correct itself; only a call the
server cannot route at all (an unknown tool name, a malformed cursor) is a protocol error.
"""

from __future__ import annotations

from collections.abc import Sequence

import mcp_types as types
from pydantic import JsonValue, ValidationError

from tools.contract import ToolResult
from tools.summary import bounded_summary, truncate_to_tokens


def from_tool_result(result: ToolResult) -> types.CallToolResult:
    """A registry tool's result. An unknown entity (status no_data, retryable) is an error to fix."""
    failed = result.status == "error" or (result.status == "no_data" and result.retryable)
    return types.CallToolResult(
        content=[types.TextContent(text=result.summary or result.status)],
        structured_content=result.model_dump(mode="json"),
        is_error=failed,
    )


def answer(
    data: dict[str, JsonValue], header: str, lines: Sequence[str], *, max_tokens: int, unit: str = "lines"
) -> types.CallToolResult:
    """A door tool's answer: `data` as structured content, a summary within the registry's budget."""
    summary, _cut = bounded_summary(header, list(lines), max_tokens=max_tokens, unit=unit)
    return types.CallToolResult(content=[types.TextContent(text=summary)], structured_content=data)


def refused(message: str, max_tokens: int) -> types.CallToolResult:
    """A tool error: the reason, said once, within the budget."""
    text = truncate_to_tokens(message, max_tokens)
    return types.CallToolResult(
        content=[types.TextContent(text=text)],
        structured_content={"status": "error", "summary": text},
        is_error=True,
    )


def problems(exc: ValidationError, tool: str) -> str:
    """Invalid arguments in the registry's words: which field, what is wrong."""
    listed = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
    )
    return f"invalid arguments for {tool}: {listed}"
