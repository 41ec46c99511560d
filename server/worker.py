"""Background investigations: claim an incident from the queue, run or resume its thread, record.

A `Worker` runs up to `concurrency` threads at once. Each claimed incident (a new investigation, an
answered approval, or an action proposed through MCP for the guard) is handled to a rest point (the
report, or the guard waiting for an approval) while a heartbeat renews its lease; if the process
dies, the lease runs out and any replica claims the incident and LangGraph carries on from the last
checkpoint (the guard's claim in the audit log keeps an action from being sent twice).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from pydantic import JsonValue

from agent.assemble import Agent, Event
from agent.report_files import write_report
from agent.state import Budget
from policies.approvals import Approval
from server.events import describe
from server.logs import incident_var
from server.metrics import ServiceMetrics
from server.service_config import WorkerConfig
from server.store.incidents import IncidentStore
from server.store.models import IncidentState
from server.store.proposals import DOOR_APPROVAL, ProposalStore
from server.store.queue import Claim, WorkQueue
from tools.config import ToolsConfig
from tools.tracing import tracer

log = logging.getLogger("medic.worker")


def enough_answers(pending: dict[str, JsonValue], answers: list[Approval]) -> bool:
    """Resume the guard once every approval requirement it listed could be met, or anyone refused:
    the guard itself decides whether they count (roles, expiry, self-approval)."""
    if any(a.verdict == "reject" for a in answers):
        return True
    needs = pending.get("needs")
    wanted = 1
    for need in needs if isinstance(needs, list) else []:
        if isinstance(need, dict) and isinstance(need.get("requirement"), dict):
            count = need["requirement"].get("min_approvers", 1)  # type: ignore[union-attr]
            wanted = max(wanted, int(count) if isinstance(count, int) else 1)
    return len({a.approver.casefold() for a in answers if a.verdict == "approve"}) >= wanted


class Worker:
    def __init__(
        self,
        agent: Agent,
        store: IncidentStore,
        queue: WorkQueue,
        config: WorkerConfig,
        *,
        tools: ToolsConfig,
        budget: Budget,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.agent, self.store, self.queue, self.config = agent, store, queue, config
        self.tools, self.budget, self.metrics = tools, budget, metrics
        self.proposals = ProposalStore(store.engine, store.clock)
        self.owner = f"worker-{uuid.uuid4().hex[:12]}"
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(config.concurrency)
        self._pool = ThreadPoolExecutor(max_workers=config.concurrency, thread_name_prefix="medic-work")
        self._loop: threading.Thread | None = None
        self.running: set[str] = set()

    def start(self) -> None:
        self._loop = threading.Thread(target=self._claim_loop, name="medic-claims", daemon=True)
        self._loop.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Claim nothing more; let in-flight steps finish (what does not is resumed elsewhere)."""
        self._stop.set()
        if self._loop is not None:
            self._loop.join(timeout_s)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _claim_loop(self) -> None:
        lease = timedelta(seconds=self.config.lease_s)
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=self.config.poll_s):
                continue
            try:
                claim = self.queue.claim(self.owner, lease)
            except Exception:  # the database is briefly away: try again, never die
                log.exception("claiming work failed")
                claim = None
            if claim is None:
                self._slots.release()
                self._stop.wait(self.config.poll_s)
                continue
            future: Future[None] = self._pool.submit(self._serve, claim)
            future.add_done_callback(lambda _f: self._slots.release())

    def _serve(self, claim: Claim) -> None:
        incident_id = claim.incident_id
        self.running.add(incident_id)
        done = threading.Event()
        threading.Thread(target=self._heartbeat, args=(claim, done), daemon=True).start()
        token = incident_var.set(incident_id)
        try:
            with tracer.start_as_current_span("investigation") as span:
                span.set_attribute("medic.incident_id", incident_id)
                self.handle(incident_id)
        except Exception as exc:  # recorded on the incident, never lost in a log only
            log.exception("investigation %s failed", incident_id)
            self.store.add_event(incident_id, "error", f"{type(exc).__name__}: {exc}"[:2000])
            self.store.set_state(incident_id, "failed")
            if self.metrics is not None:
                self.metrics.investigations.labels("failed").inc()
        finally:
            incident_var.reset(token)
            done.set()
            self.running.discard(incident_id)
            self.queue.finish(claim)

    def _heartbeat(self, claim: Claim, done: threading.Event) -> None:
        """Renew the lease while the claim is served; a lost lease is logged (the checkpoint and the
        guard's once-only claim keep a takeover safe)."""
        lease = timedelta(seconds=self.config.lease_s)
        while not done.wait(self.config.lease_s / 3):
            if not self.queue.renew(claim, lease):
                log.warning("lease on %s lost", claim.incident_id)
                return

    def handle(self, incident_id: str) -> None:
        """Bring the incident's thread to its next rest point and record what it showed."""
        record = self.store.get(incident_id)

        def on_event(event: Event) -> None:
            if self.metrics is not None:
                self.metrics.observe(incident_id, event)
            described = describe(event)
            if described is not None:
                self.store.add_event(incident_id, *described)

        started = time.monotonic()
        pending = self.agent.pending_approval(incident_id)
        if pending is not None:
            answers = self.store.approvals_for(incident_id, str(pending.get("action_id")))
            if not enough_answers(pending, answers):
                if record.state != "awaiting_approval" or record.pending != pending:
                    # the thread reached the guard's pause but its rest point was never recorded (the
                    # replica that ran it died in between): record it now, or no one could approve
                    self._record_rest_point(incident_id, time.monotonic() - started)
                return  # still waiting for approvers
            self.store.set_state(incident_id, "investigating")
            self.agent.resume(incident_id, answers, on_event)
        elif (proposed := self.proposals.take(incident_id)) is not None:
            self.store.set_state(incident_id, "investigating")
            self.agent.propose(proposed, DOOR_APPROVAL, on_event)  # an MCP proposal: the guard decides
        else:
            if record.state == "queued":
                self.store.set_state(incident_id, "investigating")
            self.agent.investigate(record.incident, self.budget, on_event)
        self._record_rest_point(incident_id, time.monotonic() - started)

    def _record_rest_point(self, incident_id: str, wall_s: float) -> None:
        values = self.agent.values(incident_id)
        pending = self.agent.pending_approval(incident_id)
        report = write_report(
            values,
            tools=self.tools,
            planner=self.agent.planner.name,
            wall_s=wall_s,
            out_dir=self.config.reports_dir / incident_id,
        )
        data = report.model_dump(mode="json")
        state: IncidentState = "awaiting_approval" if pending is not None else "finished"
        self.store.set_state(incident_id, state, report=data, pending=pending)
        if self.metrics is not None:
            self.metrics.rest_point(report, state)
