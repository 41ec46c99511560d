"""Which message shows which incident: one thread per incident however many replicas try, abandoned
claims freed, and each change of an incident redrawn by one replica."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from agent.incident import incident_from_question
from server.store.engine import database_url, open_engine
from server.store.incidents import IncidentStore
from server.store.slack_threads import SlackThreads

NOW = datetime(2026, 3, 2, 14, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _stores(tmp_path: Path) -> tuple[IncidentStore, SlackThreads, Clock]:
    engine = open_engine(database_url(None, tmp_path))
    clock = Clock()
    return IncidentStore(engine, clock), SlackThreads(engine, clock), clock


def _incident(store: IncidentStore, question: str = "why is checkout slow?") -> str:
    incident = incident_from_question(
        question, as_of=NOW, namespace="shop", known_services=[], asked_by="slack:U1"
    )
    record, _created = store.open(incident, opened_by="slack:U1")
    return record.id


def test_one_thread_per_incident_and_abandoned_claims_are_freed(tmp_path: Path) -> None:
    store, threads, clock = _stores(tmp_path)
    incident_id = _incident(store)
    assert threads.claim(incident_id, "C1")
    assert not threads.claim(incident_id, "C2")  # another replica is posting it
    clock.now += timedelta(minutes=5)  # that replica died before posting
    assert threads.claim(incident_id, "C2")
    threads.posted(incident_id, "1.0001", "digest", NOW)
    clock.now += timedelta(hours=1)
    assert not threads.claim(incident_id, "C3")  # a posted thread is never taken over
    thread = threads.at("C2", "1.0001")
    assert thread is not None and thread.incident_id == incident_id and threads.latest_in("C2") == thread


def test_an_unrouted_alert_can_still_be_posted(tmp_path: Path) -> None:
    store, threads, _clock = _stores(tmp_path)
    incident_id = _incident(store)
    threads.no_route(incident_id)
    assert threads.of(incident_id) is None
    assert threads.claim(incident_id, "C1")
    assert threads.of(incident_id) is not None


def test_each_change_is_redrawn_once(tmp_path: Path) -> None:
    store, threads, clock = _stores(tmp_path)
    incident_id = _incident(store)
    assert threads.claim(incident_id, "C1")
    threads.posted(incident_id, "1.0001", "digest", store.get(incident_id).updated_at)
    assert threads.due() == []
    clock.now += timedelta(seconds=1)
    store.add_event(incident_id, "note", "something happened")
    [(thread, record)] = threads.due()
    [(same, _record)] = threads.due()  # a second replica sees the same change
    assert threads.take(thread, record.updated_at)
    assert not threads.take(same, record.updated_at)  # and loses the redraw
    assert threads.due() == []
    threads.give_back(thread)  # Slack did not take the redraw: it is due again
    assert [t.incident_id for t, _r in threads.due()] == [incident_id]
