"""Putting medic together from a config: planner, tools, guard, checkpointer, graph.

Every entry point (the CLI, the eval runner, later the HTTP app) goes through `open_agent`, so there
is one way to wire the parts. `Agent` runs and resumes investigations and reports progress events.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from langchain_core.runnables import RunnableConfig
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command
from pydantic import BaseModel, Field, JsonValue

from agent.diagnosis import Diagnosis, Hypothesis
from agent.graph import build_graph
from agent.incident import Incident
from agent.planner import Planner
from agent.planners.openai_client import OpenAIPlannerConfig
from agent.runbook import DEFAULT_RUNBOOK_PATH, load_runbook
from agent.state import Budget, Proposal, Step, ToolCall, Usage
from policies.approvals import Approval
from policies.audit import AuditLog
from policies.audit_store import open_audit_store
from policies.checkpoint import open_checkpointer
from policies.guard import Guard, RecoveryCheck
from policies.guard_record import GuardRecord, NoApprover
from policies.loader import load_default_policy, load_policy
from policies.model import ApprovalRequirement, Policy
from tools.action_request import ActionRequest
from tools.backends import act_api_client, kube_api_client, open_tool_context
from tools.config import ToolsConfig
from tools.context import ToolContext
from tools.contract import Evidence
from tools.memory.model import IncidentMemory
from tools.metrics.client import MetricsBackend
from tools.metrics.recovery import Recovery, error_ratio_recovery
from tools.registry import Registry, default_registry

PlannerName = Literal["rules", "openai"]
Event = dict[str, object]
STATE_MODELS = (
    Incident,
    Budget,
    Step,
    ToolCall,
    Evidence,
    Usage,
    Diagnosis,
    Hypothesis,
    Proposal,
    ActionRequest,
    GuardRecord,
    Approval,
)


class AgentConfig(BaseModel):
    """What an agent needs; `server/settings.py` composes it from MEDIC_ variables."""

    tools: ToolsConfig = Field(default_factory=ToolsConfig)
    planner: PlannerName = "rules"
    openai: OpenAIPlannerConfig | None = None
    policy_file: Path | None = Field(None, description="None: the shipped, safe default policy")
    runbook_file: Path = DEFAULT_RUNBOOK_PATH
    audit_url: str = Field(".medic/audit.db", description="a SQLite path, or postgresql://…")
    database_url: str | None = Field(None, description="postgresql://… for checkpoints; None: SQLite")
    state_dir: Path = Field(Path(".medic"), description="where SQLite checkpoints live")
    act_kubeconfig: Path | None = Field(
        None, description="the executor's own credential; None: the investigations' kubeconfig"
    )
    act_kube_context: str | None = None
    budget: Budget = Field(default_factory=Budget)
    verify_within_s: float = Field(60.0, gt=0, le=3600)
    recovery_within_s: float = Field(
        0.0,
        ge=0,
        le=3600,
        description="after a verified action, wait this long for the error ratio to recede",
    )


def make_planner(config: AgentConfig, registry: Registry, *, recall: bool = False) -> Planner:
    """The configured planner; `recall`: a memory of past incidents is there for the rules planner to
    ask (the OpenAI planner sees `similar_incidents` in the registry like every other tool)."""
    if config.planner == "openai":
        from agent.planners.openai_planner import OpenAIPlanner

        if config.openai is None:
            raise ValueError(
                "the openai planner needs MEDIC_OPENAI_BASE_URL, MEDIC_OPENAI_API_KEY and a model"
            )
        return OpenAIPlanner(config.openai, registry)
    from agent.planners.rules import RulesPlanner

    return RulesPlanner(recall=recall)


class Agent:
    """Runs investigations as checkpointed threads (thread id = incident id)."""

    def __init__(self, graph: CompiledStateGraph, planner: Planner) -> None:
        self.graph = graph
        self.planner = planner

    def investigate(self, incident: Incident, budget: Budget, on_event: Callable[[Event], None]) -> None:
        """Run until the end or an approval pause, reporting each event as it happens. An incident id
        already investigated (a re-delivered alert) is not investigated again: its thread stands."""
        snapshot = self.graph.get_state(_thread(incident.id))
        if not snapshot.values:
            self._stream({"incident": incident, "budget": budget}, incident.id, on_event)
        elif snapshot.next and not any(task.interrupts for task in snapshot.tasks):
            self._stream(None, incident.id, on_event)  # a process died mid-way: carry on from the checkpoint
        else:
            on_event({"event": "already_investigated", "incident": incident.id})

    def resume(
        self, incident_id: str, approvals: list[Approval] | NoApprover, on_event: Callable[[Event], None]
    ) -> None:
        """Answer the pending approval: the approvals given, or that nobody could be asked."""
        if isinstance(approvals, NoApprover):
            answer: object = approvals.resume_value()
        else:
            answer = [a.model_dump(mode="json") for a in approvals]
        self._stream(Command(resume=answer), incident_id, on_event)

    def propose(
        self,
        request: ActionRequest,
        door_approval: ApprovalRequirement | None,
        on_event: Callable[[Event], None],
    ) -> None:
        """Hand an action proposed through a door (MCP) to the guard of its incident's thread, in the
        runbook's place: check and dry-run, then the approval pause. Only a thread at rest takes one."""
        config = _thread(request.incident_id)
        snapshot = self.graph.get_state(config)
        if not snapshot.values or snapshot.next:
            raise ValueError(f"incident {request.incident_id} is not at rest: it cannot take a proposal now")
        proposal = Proposal(action=request, reason=f"proposed by {request.requested_by}: {request.reason}")
        update: dict[str, object] = {
            "proposal": proposal,
            "action": request,
            "guard": None,
            "approvals": [],
            "door_approval": door_approval,
        }
        self.graph.update_state(config, update, as_node="propose")
        on_event({"event": "proposal", "action": request.model_dump(mode="json"), "reason": proposal.reason})
        self._stream(None, request.incident_id, on_event)

    def run(
        self,
        incident: Incident,
        budget: Budget,
        on_event: Callable[[Event], None],
        decide: Callable[[dict[str, JsonValue]], Approval | NoApprover | None],
    ) -> dict[str, object]:
        """Investigate; if the guard pauses for approval, ask `decide` (None leaves it pending)."""
        self.investigate(incident, budget, on_event)
        payload = self.pending_approval(incident.id)
        if payload is not None and (answer := decide(payload)) is not None:
            self.resume(incident.id, answer if isinstance(answer, NoApprover) else [answer], on_event)
        return self.values(incident.id)

    def investigation(self, incident_id: str) -> dict[str, object] | None:
        """The thread's state as its investigation handed it to the guard, right after the proposal
        (None: it never got that far)."""
        handed: dict[str, object] | None = None
        for snapshot in self.graph.get_state_history(_thread(incident_id)):  # newest first
            if "proposal" not in snapshot.values:
                break
            handed = dict(snapshot.values)
        return handed

    def guard_investigation(
        self, investigated: dict[str, object], on_event: Callable[[Event], None]
    ) -> Incident:
        """Take an investigation another agent made (`investigation`) as this thread's own and run this
        agent's guard on its proposal: one investigation judged under two policies, as the eval's
        dry-run and enforce passes are. The thread (the investigated incident's id) must be new."""
        incident = investigated.get("incident")
        if not isinstance(incident, Incident) or "proposal" not in investigated:
            raise ValueError("not an investigation handed to a guard: it has no incident or no proposal")
        config = _thread(incident.id)
        if self.graph.get_state(config).values:
            raise ValueError(f"incident {incident.id} already has an investigation here")
        self.graph.update_state(config, investigated, as_node="propose")
        self._stream(None, incident.id, on_event)
        return incident

    def pending_approval(self, incident_id: str) -> dict[str, JsonValue] | None:
        """The approval request an investigation is paused on, if any."""
        snapshot = self.graph.get_state(_thread(incident_id))
        for task in snapshot.tasks:
            for pause in task.interrupts:
                value: dict[str, JsonValue] = pause.value
                return value
        return None

    def values(self, incident_id: str) -> dict[str, object]:
        return dict(self.graph.get_state(_thread(incident_id)).values)

    def _stream(
        self,
        payload: dict[str, object] | Command[object] | None,
        incident_id: str,
        on_event: Callable[[Event], None],
    ) -> None:
        for mode, event in self.graph.stream(
            payload, _thread(incident_id), stream_mode=["custom", "updates"]
        ):
            if mode == "custom" and isinstance(event, dict):
                on_event(event)
            elif isinstance(event, dict) and "__interrupt__" in event:
                on_event({"event": "approval_needed"})


def _thread(incident_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": incident_id}}


def utc_now() -> datetime:
    return datetime.now(UTC)


def recovery_check(metrics: MetricsBackend, templates: Mapping[str, str]) -> RecoveryCheck:
    """Whether the target service's error ratio receded after the action (pods and deployments of
    a service; a node action has no one service to watch)."""

    def check(request: ActionRequest, executed_at: datetime, now: datetime) -> Recovery:
        ref = request.target_ref
        if ref.namespace is None:
            return Recovery(ok=None, detail="no service-level symptom to watch for a node action")
        service = ref.name if ref.resource == "deployment" else ref.name.rsplit("-", 2)[0]
        return error_ratio_recovery(
            metrics, templates, namespace=ref.namespace, service=service, before=executed_at, now=now
        )

    return check


def connect_guard(
    config: AgentConfig,
    policy: Policy,
    audit: AuditLog,
    clock: Callable[[], datetime],
    context: ToolContext,
    stack: contextlib.ExitStack,
) -> Guard | None:
    """The guard, with two credentials: the guard reads the target's state with the investigations'
    (read-only) one, and only the executor holds the act credential when one is configured. None
    without Kubernetes access."""
    read_api = kube_api_client(config.tools)
    if read_api is None:
        return None
    stack.callback(read_api.close)
    act_api = read_api
    if config.act_kubeconfig is not None:
        act_api = act_api_client(config.tools, config.act_kubeconfig, config.act_kube_context)
        stack.callback(act_api.close)
    return Guard.connect(
        act_api,
        policy,
        audit,
        clock,
        read_api=read_api,
        verify_within_s=config.verify_within_s,
        recovery=recovery_check(context.metrics, config.tools.promql) if context.metrics else None,
        recovery_within_s=config.recovery_within_s,
    )


@contextlib.contextmanager
def open_agent(
    config: AgentConfig,
    clock: Callable[[], datetime] = utc_now,
    wrap: Callable[[ToolContext], ToolContext] | None = None,
    memory: IncidentMemory | None = None,
) -> Iterator[Agent]:
    """An agent wired to the configured backends; without Kubernetes access it has no guard. Every
    connection it opens is closed when the block ends. `wrap`, when given, transforms the tools'
    context before any tool sees it (a recording wraps the backends this way; no tool changes).
    `memory`: past incidents for `similar_incidents` (None: the tool says memory is not configured)."""
    with contextlib.ExitStack() as stack:
        registry = default_registry()
        planner = make_planner(config, registry, recall=memory is not None)
        policy = load_policy(config.policy_file) if config.policy_file else load_default_policy()
        store = open_audit_store(config.audit_url)
        stack.callback(store.close)
        context = open_tool_context(config.tools, clock())
        stack.callback(context.close)
        if memory is not None:
            context = dataclasses.replace(context, memory=memory)
        if wrap is not None:
            context = wrap(context)
        guard = connect_guard(config, policy, AuditLog(store, clock), clock, context, stack)
        saver = stack.enter_context(
            open_checkpointer(config.database_url, config.state_dir / "checkpoints.db", STATE_MODELS)
        )
        graph = build_graph(
            planner, registry, guard, saver, context=context, runbook=load_runbook(config.runbook_file)
        )
        yield Agent(graph, planner)
