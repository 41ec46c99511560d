"""The service's running parts, opened in one place for every door: `medic serve` (HTTP, with MCP at
/mcp) and `medic mcp` (stdio) share the incident store, the work queue, the chat and the worker.

Opening them starts the worker unless this process only serves (`run_worker=False`: another replica
investigates), and the watch loop on this replica's shards when it is enabled (`server/watch/`);
closing stops claiming work and lets in-flight steps finish, whatever does not is resumed by the next
replica to claim it, and gives the watch's shards back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from agent.assemble import AgentConfig, open_agent
from agent.chat import ChatAnswer
from agent.chat import answer as rules_answer
from agent.report import Report
from server.deps import Services
from server.metrics import ServiceMetrics
from server.service_config import ServiceConfig
from server.store.engine import database_url, open_engine
from server.store.incidents import IncidentStore
from server.store.memory import StoreMemory
from server.store.queue import WorkQueue
from server.telemetry import flush_tracing
from server.worker import Worker


def _chat(agent: AgentConfig, stack: contextlib.ExitStack) -> Callable[[str, Report | None, str], ChatAnswer]:
    """The OpenAI planner answers chat through its model; the rules planner through fixed intents."""
    if agent.planner == "openai" and agent.openai is not None:
        from agent.chat_llm import LLMChat
        from agent.planners.openai_client import ChatClient

        client = ChatClient(agent.openai)
        stack.callback(client.close)
        return LLMChat(client).answer
    return rules_answer


@contextlib.contextmanager
def open_services(service: ServiceConfig, agent: AgentConfig) -> Iterator[Services]:
    """The store, queue, chat and metrics every door shares, with the worker running beside them."""
    engine = open_engine(database_url(service.database_url, service.state_dir))
    store, queue = IncidentStore(engine), WorkQueue(engine)
    metrics = ServiceMetrics(queue.depth)
    with contextlib.ExitStack() as stack:
        stack.callback(flush_tracing)  # last: the spans of the steps that finished at shutdown
        stack.callback(engine.dispose)
        services = Services(
            store=store,
            queue=queue,
            grants=service.api_tokens,
            approval_ttl_s=service.approval_ttl_s,
            chat=_chat(agent, stack),
            metrics=metrics,
        )
        if service.run_worker:
            # the service's memory of past incidents is its own store (server/store/memory.py)
            running = stack.enter_context(open_agent(agent, memory=StoreMemory(engine)))
            worker = Worker(
                running, store, queue, service.worker, tools=agent.tools, budget=agent.budget, metrics=metrics
            )
            worker.start()
            stack.callback(worker.stop)
        if service.watch is not None:  # stopped before the worker: its last incidents are queued
            _watch(service, agent, services, stack)
        yield services


def _watch(
    service: ServiceConfig, agent: AgentConfig, services: Services, stack: contextlib.ExitStack
) -> None:
    """The watch loop on this replica's shards, opening what it detects through the alert intake."""
    from server.watch.intake import open_detected
    from server.watch.sharded import running_watch

    assert service.watch is not None
    stack.enter_context(
        running_watch(
            service.watch,
            services.store.engine,
            agent.tools,
            agent.runbook_file,
            lambda detection: open_detected(services, detection),
        )
    )
