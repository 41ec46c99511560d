"""The proposal queue: only an incident at rest takes an action, atomically, and a worker takes it once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.incident import incident_from_question
from server.store.engine import database_url, open_engine
from server.store.incidents import IncidentStore
from server.store.models import IncidentState
from server.store.proposals import Busy, ProposalStore
from server.store.queue import WorkQueue
from tools.action_request import ActionRequest


def _store(tmp_path: Path) -> tuple[IncidentStore, WorkQueue, ProposalStore, str]:
    engine = open_engine(database_url(None, tmp_path))
    store = IncidentStore(engine)
    incident = incident_from_question(
        "why is checkout failing?", as_of=datetime(2026, 3, 2, tzinfo=UTC), namespace="boutique",
        known_services=[], asked_by="rick",
    )  # fmt: skip
    record, _ = store.open(incident, opened_by="rick")
    return store, WorkQueue(engine), ProposalStore(engine), record.id


def _action(incident_id: str, replicas: int = 3) -> ActionRequest:
    return ActionRequest(
        kind="scale",
        target="boutique/deployment/checkoutservice",
        params={"replicas": replicas},
        incident_id=incident_id,
        requested_by="rick",
    )


@pytest.mark.parametrize(
    ("state", "why"),
    [
        ("queued", "is queued: propose once it rests"),
        ("investigating", "is investigating: propose once it rests"),
        ("awaiting_approval", "already waits for an approval"),
        ("resolved", "is resolved"),
        ("failed", "is failed: it takes no proposal"),
    ],
)
def test_only_an_incident_at_rest_takes_a_proposal(tmp_path: Path, state: IncidentState, why: str) -> None:
    store, _queue, proposals, incident_id = _store(tmp_path)
    store.set_state(incident_id, state)
    with pytest.raises(Busy, match=why):
        proposals.submit(_action(incident_id))
    assert proposals.take(incident_id) is None
    assert store.get(incident_id).state == state


def test_a_proposal_queues_the_incident_and_a_worker_takes_it_once(tmp_path: Path) -> None:
    store, queue, proposals, incident_id = _store(tmp_path)
    store.set_state(incident_id, "finished")
    claim = queue.claim("w", lease=timedelta(seconds=30))
    assert claim is not None
    queue.finish(claim)  # the opening's work is done; the incident rests idle
    proposals.submit(_action(incident_id))
    assert store.get(incident_id).state == "queued" and queue.depth() == 1
    assert not proposals.taken(incident_id, _action(incident_id).action_id)
    taken = proposals.take(incident_id)
    assert taken == _action(incident_id)
    assert proposals.take(incident_id) is None and proposals.taken(incident_id, taken.action_id)


def test_two_doors_proposing_at_once_one_wins(tmp_path: Path) -> None:
    store, _queue, proposals, incident_id = _store(tmp_path)
    store.set_state(incident_id, "finished")

    def propose(replicas: int) -> str:
        try:
            proposals.submit(_action(incident_id, replicas))
        except Busy as exc:
            return str(exc)
        return "queued"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(propose, range(2, 10)))
    assert outcomes.count("queued") == 1
    assert all("is queued" in o for o in outcomes if o != "queued")
