"""Who is calling: a bearer token becomes a verified `Principal` (subject, roles, scopes).

Tokens are configured as SHA-256 hashes (`MEDIC_API_TOKENS`), never in clear text; a presented token
is hashed and compared in constant time. Roles come only from that configuration: nothing in a
request body, a header other than Authorization, or the server's environment grants a role.
Route roles nest: viewer ⊂ responder ⊂ approver. `admin` manages medic itself and approves nothing
(approving is the guard's business, and it asks for the approver role).
Any other role a token carries (e.g. `sre`) is a team role the policy's approval rules may ask for.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

RouteRole = Literal["viewer", "responder", "approver", "admin"]
Scope = Literal["alerts", "api", "mcp"]
# What each route role also grants (a role never grants approver unless it is approver).
_IMPLIES: dict[str, set[str]] = {
    "viewer": {"viewer"},
    "responder": {"viewer", "responder"},
    "approver": {"viewer", "responder", "approver"},
    "admin": {"viewer", "responder", "admin"},
}


def token_hash(token: str) -> str:
    """How a token is stored in settings: `python -c 'from server.auth import token_hash; …'`."""
    return hashlib.sha256(token.encode()).hexdigest()


def _api_only() -> list[Scope]:
    return ["api"]


class TokenGrant(BaseModel):
    """One configured API token: the hash of the secret, whose it is and what it may do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(min_length=1, max_length=200, description="who the token belongs to")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the token")
    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    scopes: list[Scope] = Field(default_factory=_api_only)

    @field_validator("roles")
    @classmethod
    def _known_route_role(cls, roles: list[str]) -> list[str]:
        if not roles:
            raise ValueError("a token needs at least one role (viewer, responder, approver or admin)")
        return roles


class Principal(BaseModel):
    """A verified caller."""

    model_config = ConfigDict(frozen=True)

    subject: str
    roles: list[str]
    groups: list[str] = Field(default_factory=list)
    scopes: list[Scope]

    def can(self, role: RouteRole) -> bool:
        return any(role in _IMPLIES.get(r, set()) for r in self.roles)


class Unauthorized(Exception):
    """No token, or not one of ours."""


class Forbidden(Exception):
    """A verified caller without the role or scope the route needs."""


def authenticate(authorization: str | None, grants: list[TokenGrant]) -> Principal:
    """The principal of an `Authorization: Bearer <token>` header."""
    if not authorization:
        raise Unauthorized("send Authorization: Bearer <token>")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    presented = token_hash(token.strip())
    match = None
    for grant in grants:  # compare with every grant: the time taken does not say which matched
        if hmac.compare_digest(presented, grant.sha256):
            match = grant
    if match is None:
        raise Unauthorized("unknown token")
    return Principal(
        subject=match.subject, roles=list(match.roles), groups=list(match.groups), scopes=match.scopes
    )


def require(principal: Principal, role: RouteRole, scope: Scope = "api") -> Principal:
    if scope not in principal.scopes:
        raise Forbidden(f"this token lacks the '{scope}' scope")
    if not principal.can(role):
        raise Forbidden(
            f"this route needs the {role} role; {principal.subject} has {', '.join(principal.roles)}"
        )
    return principal
