"""Deliberately broken parts for the eval harness's must-show tests: a model that always blames the
alerted service (served by a scripted OpenAI-compatible server on loopback, so the real OpenAI planner
drives the real graph), an approval path that executes the approved action a second time, and one
whose process dies mid-case. Module-level classes: the parallel runner pickles them into workers."""

from __future__ import annotations

import json
import os
import re
import signal
from dataclasses import dataclass
from datetime import UTC, datetime

from kubernetes import client
from pydantic import JsonValue

from agent.assemble import Agent
from agent.planners.prompts import CATALOGUE_HEADER
from evals.enforce import ApprovalContext, GuardApproval
from tests.agent.fake_openai import Body, FakeOpenAI, Reply, calls, text
from tools.action_request import ActionRequest
from tools.actions import Executor


@dataclass
class BlamingModel(FakeOpenAI):
    """Investigates the alerted service once, then diagnoses `kind` on it with high confidence,
    citing the evidence it saw about it: wrong whenever the alerted service is not the cause."""

    kind: str = "memory_leak"

    def _next(self, body: Body, authorization: str) -> Reply | None:
        with self._lock:
            self.requests.append(body)
        messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
        service = _alerted_service(messages)
        if body.get("response_format"):
            return text(self._diagnosis(service, _catalogue(messages)))
        if any(m.get("role") == "tool" for m in messages):
            return text("done")
        return calls(("golden_signals", {"service": service}))

    def _diagnosis(self, service: str, evidence: list[str]) -> str:
        cited = [e for e in evidence if service in e][:3] or evidence[:1]
        hypothesis = {
            "entity": service,
            "entity_kind": "service",
            "service": service,
            "fault_kind": self.kind,
            "confidence": 0.9,
            "label": "CONFIRMED",
            "summary": f"{service} is at fault",
            "evidence": cited,
            "ruled_out": [],
        }
        return json.dumps({"healthy": False, "summary": f"{service}", "hypotheses": [hypothesis]})


def _alerted_service(messages: list[Body]) -> str:
    for message in messages:
        found = re.search(r"<incident>\s*(\{.*\})\s*</incident>", str(message.get("content")), re.S)
        if found:
            labels = json.loads(found.group(1)).get("labels") or {}
            return str(labels.get("service", ""))
    raise AssertionError("no incident block in the request")


def _catalogue(messages: list[Body]) -> list[str]:
    content = str(messages[-1].get("content"))
    listed = content.split(CATALOGUE_HEADER, 1)[-1]
    return [line[2:].split(": ", 1)[0].strip() for line in listed.splitlines() if line.startswith("- ")]


class ApprovesThenExecutesAgain:
    """Approves through the guard, then sends the approved action once more, around the guard."""

    def __call__(
        self, agent: Agent, incident_id: str, payload: dict[str, JsonValue], context: ApprovalContext
    ) -> None:
        GuardApproval()(agent, incident_id, payload, context)
        request = ActionRequest.model_validate(payload["action"])
        config = client.Configuration()
        config.host = context.kubernetes_url
        with client.ApiClient(config) as api:
            Executor(api).execute(request, dry_run=False, now=datetime.now(UTC))


class DiesMidCase:
    """The worker process is killed while its sandbox is up (as a crash or the OOM killer would)."""

    def __call__(
        self, agent: Agent, incident_id: str, payload: dict[str, JsonValue], context: ApprovalContext
    ) -> None:
        os.kill(os.getpid(), signal.SIGKILL)
