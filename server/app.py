"""The service (`medic serve`): one FastAPI app for every door, built by `create_app` (nothing at import).

The lifespan opens the service's parts (`server.lifecycle`: the incident store and, unless this replica
only serves, the worker), the MCP door over them at /mcp (`server.mcp`) and, with Slack configured, the
Slack app (`server/slack/`) and the refresher that keeps each incident's thread in step with the store.
Shutdown stops claiming work and lets in-flight steps finish; whatever does not finish is resumed by the
next replica.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from agent.assemble import AgentConfig
from server import problems
from server.api import alertmanager, approvals, incidents, messages
from server.deps import ServicesDep
from server.lifecycle import open_services
from server.mcp.door import open_door
from server.mcp.http import McpEndpoint
from server.readiness import backend_checks, database_check
from server.service_config import ServiceConfig


def create_app(service: ServiceConfig, agent: AgentConfig) -> FastAPI:
    mcp = McpEndpoint(service.api_tokens)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with open_services(service, agent) as services, open_door(services, agent, service) as door:
            app.state.services = services
            async with contextlib.AsyncExitStack() as stack:
                if service.slack is not None:  # stopped first: no Slack request reaches a stopped worker
                    from server.slack.app import running_slack

                    app.state.slack = await stack.enter_async_context(
                        running_slack(service.slack, services, services.store.engine)
                    )
                # What start-up built (modules, the graph, clients) lives as long as the service: kept
                # out of the collector's full passes, which otherwise walk all of it and stall every
                # request (a Slack acknowledgement by hundreds of ms). Given back at shutdown.
                gc.freeze()
                stack.callback(gc.unfreeze)
                async with mcp.serving(door):
                    yield

    app = FastAPI(
        title="medic",
        summary="Incident response for Kubernetes: investigations, evidence, guarded remediation.",
        version="0.1.0",
        lifespan=lifespan,
    )
    problems.install(app)
    app.include_router(incidents.router)
    app.include_router(approvals.router)
    app.include_router(alertmanager.router)
    app.include_router(messages.router)
    if service.slack is not None:
        from server.slack.routes import mount as mount_slack

        mount_slack(app)
    app.router.routes.append(Route("/mcp", mcp))  # MCP streamable HTTP (DESIGN §6), the API's tokens

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], response_model=None)
    def readyz(svc: ServicesDep) -> JSONResponse:
        """Ready while the database answers; the backends' state is reported beside it."""
        database = database_check(svc.store.engine)()
        backends = {name: check() for name, check in backend_checks(agent.tools).items()}
        ready = database == "ok"
        body = {
            "ready": ready,
            "degraded": any(v != "ok" for v in backends.values()),
            "checks": {"database": database, **backends},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["health"], response_class=PlainTextResponse)
    def metrics(svc: ServicesDep) -> PlainTextResponse:
        from prometheus_client import CONTENT_TYPE_LATEST

        return PlainTextResponse(svc.metrics.exposition().decode(), media_type=CONTENT_TYPE_LATEST)

    return app
