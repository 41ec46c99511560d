"""FastAPI dependencies as `Annotated` aliases: the services, and the caller with the role a route needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Header, Request

from agent.chat import ChatAnswer
from agent.chat import answer as rules_answer
from agent.report import Report
from server.auth import Principal, RouteRole, Scope, TokenGrant, authenticate, require
from server.metrics import ServiceMetrics
from server.store.incidents import IncidentStore
from server.store.queue import WorkQueue


@dataclass
class Services:
    """What the routes share; built by `create_app`'s lifespan, never at import."""

    store: IncidentStore
    queue: WorkQueue
    grants: list[TokenGrant]
    approval_ttl_s: float = 900.0
    chat: Callable[[str, Report | None, str], ChatAnswer] = rules_answer
    metrics: ServiceMetrics = field(default_factory=lambda: ServiceMetrics(lambda: 0))


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


def _caller(role: RouteRole, scope: Scope = "api") -> object:
    def dependency(svc: ServicesDep, authorization: Annotated[str | None, Header()] = None) -> Principal:
        return require(authenticate(authorization, svc.grants), role, scope)

    return Depends(dependency)


Viewer = Annotated[Principal, _caller("viewer")]
Responder = Annotated[Principal, _caller("responder")]
ApproverCaller = Annotated[Principal, _caller("approver")]
AlertSender = Annotated[Principal, _caller("viewer", "alerts")]
