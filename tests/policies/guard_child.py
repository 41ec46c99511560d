"""A separate process running the guard graph from a SQLite checkpoint, for the resume tests.

    python -m tests.policies.guard_child start|resume|continue URL CHECKPOINT AUDIT THREAD [APPROVALS_JSON]

`resume` with `--slow-verify` stands for a rollout that takes long to verify: the parent kills the
process while it waits, after the real request went out, as a crash would.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from kubernetes import client
from langgraph.types import Command

from policies.audit import AuditLog
from policies.audit_store import SqliteAuditStore
from policies.checkpoint import open_checkpointer
from policies.guard import Guard
from policies.guard_graph import build_guard_graph
from policies.guard_record import GuardRecord
from tests.policies.guard_fixtures import clock, enforce_policy
from tests.policies.test_guard import ROLLBACK
from tools.action_request import ActionRequest
from tools.actions import Executor, Outcome, Verification
from tools.kube.client import KubernetesReader


class SlowToVerify(Executor):
    def verify(self, request: ActionRequest, outcome: Outcome, *, within_s: float = 30.0) -> Verification:
        time.sleep(600)
        return super().verify(request, outcome, within_s=within_s)


def main(argv: list[str]) -> int:
    mode, url, checkpoint, audit_path, thread = argv[:5]
    config = client.Configuration()
    config.host = url
    executor_type = SlowToVerify if "--slow-verify" in argv else Executor
    api = client.ApiClient(config)
    guard = Guard(
        executor_type(api),
        enforce_policy(),
        AuditLog(SqliteAuditStore(audit_path), clock),
        clock,
        kube=KubernetesReader(api, timeout_s=5),
        verify_within_s=5,
    )
    with open_checkpointer(None, Path(checkpoint), [GuardRecord]) as saver:
        graph = build_guard_graph(guard, saver)
        run = {"configurable": {"thread_id": thread}}
        if mode == "start":
            out = graph.invoke({"action": ROLLBACK}, run)
        elif mode == "resume":
            out = graph.invoke(Command(resume=json.loads(argv[5])), run)
        else:
            out = graph.invoke(None, run)
    record = out.get("guard")
    print(
        json.dumps(
            {
                "stage": record.stage if record else None,
                "detail": record.detail if record else "",
                "interrupted": bool(out.get("__interrupt__")),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
