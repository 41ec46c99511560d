"""Property: over random sequences of template changes (rollouts, restarts, rollbacks by people and by
medic) spread over days, with some times lost (expired events), no rollback `evaluate` allows brings
back a template that was rolled away from within the window. The oracle below keeps its own record of
roll-aways as the sequence happens, with the true times, and is written apart from the code under test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from policies.evaluate import evaluate
from policies.model import Policy
from policies.target_state import Revision, TargetState
from tests.policies.factories import NOW, request

WINDOW = timedelta(hours=24)
POLICY = Policy.model_validate(
    {
        "mode": "enforce",
        "rules": [{"name": "all", "kinds": ["*"], "effect": "allow"}],
        "history": {"window": "24h"},
    }
)
START = NOW - timedelta(days=10)

Step = tuple[str, int, int, bool]  # (what, minutes since the last step, which earlier revision, time lost)
steps = st.lists(
    st.tuples(
        st.sampled_from(["rollout", "restart", "undo_by_a_person", "rollback_by_medic", "rollback_by_medic"]),
        st.integers(1, 16 * 60),
        st.integers(0, 20),
        st.booleans(),
    ),
    min_size=1,
    max_size=14,
)


@dataclass
class Deployment:
    """The cluster's truth: revision n+1 runs templates[n] (a restart repeats one) since times[n]."""

    templates: list[str] = field(default_factory=lambda: ["v0"])
    times: list[datetime] = field(default_factory=lambda: [START])
    lost: list[bool] = field(default_factory=lambda: [False])
    rolled_away: dict[str, list[datetime]] = field(default_factory=dict)  # the oracle's own record
    allowed: list[tuple[str, datetime]] = field(default_factory=list)  # (template brought back, when)

    def switch(self, template: str, at: datetime, lost: bool) -> None:
        """A new revision running `template`. If it ran before the current template's stint began,
        this is a rollback, and the current template was rolled away from now."""
        current = self.templates[-1]
        stint = len(self.templates)
        while stint > 0 and self.templates[stint - 1] == current:
            stint -= 1
        if template != current and template in self.templates[:stint]:
            self.rolled_away.setdefault(current, []).append(at)
        self.templates.append(template)
        self.times.append(at)
        self.lost.append(lost)

    def state(self, action_template: str) -> TargetState:
        rows = zip(self.templates, self.times, self.lost, strict=True)
        revisions = [
            Revision(revision=n, template=template, became_current=None if lost else when)
            for n, (template, when, lost) in enumerate(rows, start=1)
        ]
        return TargetState(labels={}, recent_actions=[], revisions=revisions, action_template=action_template)


def play(sequence: list[Step]) -> Deployment:
    world, now, fresh = Deployment(), START, 0
    for what, minutes, pick, lost in sequence:
        now += timedelta(minutes=minutes)
        revision = pick % len(world.templates)  # an index into the history
        earlier = world.templates[revision]
        if what == "rollout":
            fresh += 1
            world.switch(f"v{fresh}", now, lost)
        elif what == "restart":  # a new revision of the same template
            world.switch(world.templates[-1], now, lost)
        elif revision == len(world.templates) - 1:
            continue  # "roll back" to the current revision: refused by kubectl and the executor alike
        elif what == "undo_by_a_person":  # not through medic: nothing stops it
            world.switch(earlier, now, lost)
        else:
            action = request("rollback", params={"to_revision": revision + 1})
            if evaluate(action, POLICY, world.state(earlier), [], now).outcome == "allow":
                world.allowed.append((earlier, now))
                world.switch(earlier, now, lost)
    return world


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_no_allowed_rollback_brings_back_a_template_rolled_away_from_within_the_window(
    sequence: list[Step],
) -> None:
    world = play(sequence)
    for template, when in world.allowed:
        for rolled_away_at in world.rolled_away.get(template, []):
            assert not (rolled_away_at <= when and when - rolled_away_at < WINDOW), (template, when, sequence)


def test_the_generator_reaches_allowed_restores_and_denials() -> None:
    """Guard against a vacuous property: some allowed rollbacks bring back a template that was rolled
    away from (longer ago than the window), and some rollbacks are denied."""
    search = settings(
        max_examples=2000, deadline=None, database=None, derandomize=True, phases=[Phase.generate]
    )

    def restores_an_old_roll_away(sequence: list[Step]) -> bool:
        world = play(sequence)
        return any(
            world.rolled_away.get(t) and any(at < w for at in world.rolled_away[t]) for t, w in world.allowed
        )

    def denies_one(sequence: list[Step]) -> bool:
        world = play(sequence)
        medic = sum(1 for what, *_ in sequence if what == "rollback_by_medic")
        return medic > len(world.allowed)

    assert find(steps, restores_an_old_roll_away, settings=search)
    assert find(steps, denies_one, settings=search)
