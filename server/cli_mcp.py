"""`medic mcp`: medic's MCP server over stdio, for an assistant on this machine (DESIGN §6)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def mcp_command(
    token_file: Annotated[
        Path | None,
        typer.Option(help="answer as this token's subject (default MEDIC_MCP_TOKEN_FILE; none: a viewer)"),
    ] = None,
    worker: Annotated[
        bool | None,
        typer.Option("--worker/--no-worker", help="investigate here too (default MEDIC_SERVE_WORKER)"),
    ] = None,
) -> None:
    """Serve MCP over stdin/stdout with the configured backends and incident store. Proposals go to
    medic's guard; approving is for approvers through the API or Slack, never for an MCP client."""
    from server.auth import Forbidden, Unauthorized
    from server.cli import fail
    from server.cli_triage import _settings
    from server.logs import configure_logging
    from server.mcp.identity import TokenFileError, stdio_principal

    settings = _settings(None)
    # an assistant's short-lived process takes no watch shards: each start and stop would move them
    service = settings.service_config().model_copy(update={"watch": None})
    if worker is not None:
        service = service.model_copy(update={"run_worker": worker})
    try:
        principal = stdio_principal(token_file or settings.mcp_token_file, service.api_tokens)
    except (TokenFileError, Unauthorized, Forbidden) as exc:
        raise fail(
            f"medic mcp: {exc} (tokens are MEDIC_API_TOKENS; see the README's MCP section)", code=2
        ) from None
    from server.mcp.stdio import serve_stdio

    configure_logging()  # JSON lines on stderr: stdout is the protocol's
    serve_stdio(service, settings.agent_config(), principal)
