"""A separate process running the investigation graph from a checkpoint (SQLite file or PostgreSQL).

    python -m tests.agent.resume_child start|resume|replay KUBE_URL CHECKPOINT AUDIT [APPROVALS_JSON]

CHECKPOINT is a postgresql:// URL or a SQLite file path.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kubernetes import client
from langgraph.types import Command

from agent.assemble import STATE_MODELS
from agent.graph import build_graph
from agent.runbook import load_runbook
from policies.audit import AuditLog
from policies.audit_store import SqliteAuditStore
from policies.checkpoint import open_checkpointer
from policies.guard import Guard
from tests.agent.scripted import ScriptedPlanner, error_ratio, revisions
from tests.agent.test_graph import AS_OF, INCIDENT
from tests.policies.guard_fixtures import clock, enforce_policy
from tools.context import ToolContext
from tools.registry import Registry


def main(argv: list[str]) -> int:
    mode, url, checkpoint, audit_path = argv[:4]
    config = client.Configuration()
    config.host = url
    guard = Guard.connect(
        client.ApiClient(config),
        enforce_policy(),
        AuditLog(SqliteAuditStore(audit_path), clock),
        clock,
        verify_within_s=5,
    )
    database_url = checkpoint if checkpoint.startswith("postgresql://") else None
    with open_checkpointer(database_url, Path(checkpoint), STATE_MODELS) as saver:
        graph = build_graph(
            ScriptedPlanner(),
            Registry([error_ratio, revisions]),
            guard,
            saver,
            context=ToolContext(as_of=AS_OF),
            runbook=load_runbook(),
        )
        thread = {"configurable": {"thread_id": INCIDENT.id}}
        if mode == "start":
            graph.invoke({"incident": INCIDENT}, thread)
        elif mode == "resume":
            graph.invoke(Command(resume=json.loads(argv[4])), thread)
        else:  # replay the execute step from its checkpoint, as a process that died in it would
            before = next(s for s in graph.get_state_history(thread) if s.next == ("guard_execute",))
            graph.invoke(None, before.config)
        snapshot = graph.get_state(thread)
    record = snapshot.values.get("guard")
    print(
        json.dumps(
            {
                "next": list(snapshot.next),
                "stage": record.stage if record else None,
                "executed": bool(record and record.executed),
                "exact": snapshot.values["proposal"].action.exact().model_dump(mode="json"),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
