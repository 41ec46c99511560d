"""Who calls an MCP tool. Over HTTP: the API's bearer token, verified by the gate in `server.mcp.http`
and carried in the request's scope. Over stdio: the subject of a token file, never with the approver
role (a local assistant proposes; people approve through the API or Slack), or a viewer without one.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request

from server.auth import Principal, TokenGrant, Unauthorized, authenticate, require

PRINCIPAL_KEY = "medic.principal"  # the ASGI scope key the HTTP gate puts the verified caller under
LOCAL_VIEWER = Principal(subject="local-viewer", roles=["viewer"], scopes=["mcp"])


class TokenFileError(ValueError):
    """The token file cannot be read or holds no token; the message names the file."""


def request_principal(request: object) -> Principal:
    """The caller the HTTP gate verified for this request; none is an error (fail closed)."""
    found = request.scope.get(PRINCIPAL_KEY) if isinstance(request, Request) else None
    if not isinstance(found, Principal):
        raise Unauthorized("no verified caller on this MCP request")
    return found


def stdio_principal(token_file: Path | None, grants: list[TokenGrant]) -> Principal:
    """The token file's subject with its roles, approver lowered to responder; a viewer without a file.
    A token that is not one of MEDIC_API_TOKENS, or lacks the `mcp` scope, raises (Unauthorized,
    Forbidden): a broken setup is said at start, not discovered tool by tool."""
    if token_file is None:
        return LOCAL_VIEWER
    try:
        lines = token_file.read_text().strip().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TokenFileError(f"cannot read the token file {token_file}: {exc}") from None
    if not lines or not lines[0].strip():
        raise TokenFileError(f"the token file {token_file} is empty")
    principal = require(authenticate(f"Bearer {lines[0].strip()}", grants), "viewer", "mcp")
    roles = list(dict.fromkeys("responder" if role == "approver" else role for role in principal.roles))
    return principal.model_copy(update={"roles": roles})
