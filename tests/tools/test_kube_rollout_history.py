"""When a revision became current, read from what the cluster keeps (`tools.kube.rollout_history`):
a rollback reuses an old ReplicaSet, so its creation time is not the answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tools.kube.models import Deployment, Event, ReplicaSet
from tools.kube.rollout_history import rollout_history
from tools.kube.template_digest import template_digest

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
GOOD, BAD = "checkout-good", "checkout-bad"


def rs(name: str, revision: int, created: datetime, history: tuple[int, ...] = ()) -> ReplicaSet:
    return ReplicaSet(
        namespace="shop",
        name=name,
        revision=revision,
        revision_history=list(history),
        created=created,
        template_digest=f"digest-of-{name}",
        owner="checkout",
    )


def deployment(progressing: str | None = None, at: datetime | None = None) -> Deployment:
    conditions = []
    if progressing is not None and at is not None:
        message = f'ReplicaSet "{progressing}" has successfully progressed.'
        conditions.append(
            {
                "type": "Progressing",
                "status": "True",
                "reason": "NewReplicaSetAvailable",
                "message": message,
                "last_update": at.isoformat(),
            }
        )
    return Deployment(namespace="shop", name="checkout", revision=3, conditions=conditions)


def scaled_up(name: str, first: datetime, last: datetime | None = None, message: str = "") -> Event:
    return Event(
        namespace="shop",
        reason="ScalingReplicaSet",
        message=message or f"Scaled up replica set {name} to 2 from 0",
        object_kind="Deployment",
        object_name="checkout",
        count=1 if last is None else 2,
        first_seen=first,
        last_seen=last or first,
    )


# v1 (good) for days, v2 (bad) 20 minutes before T0, then a rollback at T0 that reused the v1 ReplicaSet.
ROLLED_BACK = [rs(GOOD, 3, T0 - timedelta(days=3), history=(1,)), rs(BAD, 2, T0 - timedelta(minutes=20))]
ROLLBACK_AT = T0


def test_fresh_revisions_date_from_their_replicaset_and_a_rollback_from_its_scale_up() -> None:
    # The identical scale-up message was aggregated: first seen at the first rollout, last at the rollback.
    events = [
        scaled_up(GOOD, T0 - timedelta(days=3), ROLLBACK_AT),
        scaled_up(BAD, T0 - timedelta(minutes=20)),
    ]
    history = rollout_history(deployment(), ROLLED_BACK, events)
    assert [(r.revision, r.replicaset, r.restores, r.latest) for r in history] == [
        (1, GOOD, None, False),
        (2, BAD, None, True),
        (3, GOOD, 1, True),
    ]
    assert [(r.became_current, r.source) for r in history] == [
        (T0 - timedelta(days=3), "created"),
        (T0 - timedelta(minutes=20), "created"),
        (ROLLBACK_AT, "event"),
    ]
    assert history[2].created == T0 - timedelta(days=3)  # what used to be read as the rollout time


def test_without_events_the_progressing_condition_dates_the_current_revision() -> None:
    done = ROLLBACK_AT + timedelta(seconds=40)
    history = rollout_history(deployment(GOOD, done), ROLLED_BACK, [])
    assert (history[-1].became_current, history[-1].source) == (done, "condition")


def test_an_unknown_time_stays_unknown_rather_than_a_guess() -> None:
    # Events expired; the condition names another ReplicaSet; an old scale-up predates revision 2.
    events = [scaled_up(GOOD, T0 - timedelta(days=3))]
    history = rollout_history(deployment(BAD, T0 - timedelta(minutes=19)), ROLLED_BACK, events)
    assert (history[-1].became_current, history[-1].source) == (None, None)


def test_a_time_is_only_taken_between_its_neighbours() -> None:
    # good (1) → bad (2) → good again (3) → new (4, created T0): only a scale-up in [rev 2, rev 4) dates rev 3.
    replicasets = [
        rs(GOOD, 3, T0 - timedelta(days=3), history=(1,)),
        rs(BAD, 2, T0 - timedelta(hours=5)),
        rs("checkout-new", 4, T0),
    ]
    too_late = [scaled_up(GOOD, T0 + timedelta(minutes=1))]
    assert rollout_history(deployment(), replicasets, too_late)[2].became_current is None
    inside = [scaled_up(GOOD, T0 - timedelta(days=3), T0 - timedelta(hours=2))]
    assert rollout_history(deployment(), replicasets, inside)[2].became_current == T0 - timedelta(hours=2)


def test_both_message_formats_and_only_scale_ups_from_zero() -> None:
    older_format = [scaled_up(GOOD, ROLLBACK_AT, message=f"Scaled up replica set {GOOD} to 2")]
    assert rollout_history(deployment(), ROLLED_BACK, older_format)[-1].became_current == ROLLBACK_AT
    a_scale = [scaled_up(GOOD, ROLLBACK_AT, message=f"Scaled up replica set {GOOD} to 4 from 2")]
    assert rollout_history(deployment(), ROLLED_BACK, a_scale)[-1].became_current is None


def test_the_template_digest_names_what_runs_not_when_it_was_restarted() -> None:
    template = {
        "metadata": {"labels": {"app": "checkout"}, "creationTimestamp": None},
        "spec": {"containers": [{"name": "server", "image": "shop/checkout:v1", "resources": {}}]},
    }
    in_a_replicaset = {
        "metadata": {
            "labels": {"app": "checkout", "pod-template-hash": "abc12"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-03-02T12:00:00Z"},
        },
        "spec": {"containers": [{"name": "server", "image": "shop/checkout:v1"}]},
    }
    assert template_digest(template) == template_digest(in_a_replicaset)
    other = {"spec": {"containers": [{"name": "server", "image": "shop/checkout:v2"}]}}
    assert template_digest(other) != template_digest(template)
