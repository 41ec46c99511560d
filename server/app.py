"""The service (`medic serve`): one FastAPI app for every door, built by `create_app` (nothing at import).

The lifespan opens the incident store and, unless this replica only serves the API, the agent and a
worker that investigates queued incidents; with Slack configured, the Slack app (`server/slack/`)
and the refresher that keeps each incident's thread in step with the store. Shutdown stops claiming work and lets in-flight steps
finish; whatever does not finish is resumed by the next replica to claim it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse

from agent.assemble import AgentConfig, open_agent
from agent.chat import ChatAnswer
from agent.chat import answer as rules_answer
from agent.report import Report
from server import problems
from server.api import alertmanager, approvals, incidents, messages
from server.deps import Services, ServicesDep
from server.metrics import ServiceMetrics
from server.readiness import backend_checks, database_check
from server.service_config import ServiceConfig
from server.store.engine import database_url, open_engine
from server.store.incidents import IncidentStore
from server.store.queue import WorkQueue
from server.telemetry import flush_tracing
from server.worker import Worker


def _chat(
    agent: AgentConfig, stack: contextlib.AsyncExitStack
) -> Callable[[str, Report | None, str], ChatAnswer]:
    """The OpenAI planner answers chat through its model; the rules planner through fixed intents."""
    if agent.planner == "openai" and agent.openai is not None:
        from agent.chat_llm import LLMChat
        from agent.planners.openai_client import ChatClient

        client = ChatClient(agent.openai)
        stack.callback(client.close)
        return LLMChat(client).answer
    return rules_answer


def create_app(service: ServiceConfig, agent: AgentConfig) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = open_engine(database_url(service.database_url, service.state_dir))
        store, queue = IncidentStore(engine), WorkQueue(engine)
        metrics = ServiceMetrics(queue.depth)
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(flush_tracing)  # last: the spans of the steps that finished at shutdown
            stack.callback(engine.dispose)
            app.state.services = Services(
                store=store,
                queue=queue,
                grants=service.api_tokens,
                approval_ttl_s=service.approval_ttl_s,
                chat=_chat(agent, stack),
                metrics=metrics,
            )
            if service.run_worker:
                running = stack.enter_context(open_agent(agent))
                worker = Worker(
                    running,
                    store,
                    queue,
                    service.worker,
                    tools=agent.tools,
                    budget=agent.budget,
                    metrics=metrics,
                )
                worker.start()
                stack.callback(worker.stop)
            if service.slack is not None:  # stopped first: no Slack request arrives at a stopped worker
                from server.slack.app import running_slack

                app.state.slack = await stack.enter_async_context(
                    running_slack(service.slack, app.state.services, engine)
                )
            # What start-up built (modules, the graph, clients) lives as long as the service: kept out
            # of the collector's full passes, which otherwise walk all of it and stall every request
            # (a Slack acknowledgement by hundreds of ms). Given back to the collector at shutdown.
            gc.freeze()
            stack.callback(gc.unfreeze)
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
