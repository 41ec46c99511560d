"""Change freezes: explicit windows with a time zone, cron windows, scope, and approval during a freeze."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from policies.cron import CronSchedule
from policies.evaluate import evaluate
from tests.policies.factories import approval, policy, request, state

ALLOW_ALL = [{"name": "all", "kinds": ["*"], "effect": "allow"}]
WEEKEND_BERLIN = {"name": "weekend", "cron": "0 18 * * fri", "duration": "62h", "timezone": "Europe/Berlin"}


def outcome_at(now: datetime, freeze: Mapping[str, object], **req: object) -> str:
    pol = policy(rules=ALLOW_ALL, freezes=[freeze])
    return evaluate(request(**req), pol, state(), [], now).outcome  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 6, 16, 59, tzinfo=UTC), "allow"),  # Fri 17:59 Berlin (CET, UTC+1)
        (datetime(2026, 3, 6, 17, 0, tzinfo=UTC), "deny"),  # Fri 18:00 Berlin: the freeze opens
        (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), "deny"),  # Sunday
        (datetime(2026, 3, 9, 6, 59, tzinfo=UTC), "deny"),  # Mon 07:59 Berlin
        (datetime(2026, 3, 9, 7, 0, tzinfo=UTC), "allow"),  # Mon 08:00 Berlin: open again
        (datetime(2026, 3, 4, 12, 0, tzinfo=UTC), "allow"),  # Wednesday
    ],
)
def test_cron_freeze_in_its_time_zone(now: datetime, expected: str) -> None:
    assert outcome_at(now, WEEKEND_BERLIN) == expected


def test_explicit_freeze_with_naive_times_read_in_its_zone() -> None:
    freeze = {"name": "black-friday", "start": "2026-11-27T00:00:00", "end": "2026-11-30T00:00:00",
              "timezone": "America/New_York"}  # fmt: skip
    assert outcome_at(datetime(2026, 11, 27, 4, 59, tzinfo=UTC), freeze) == "allow"
    assert outcome_at(datetime(2026, 11, 27, 5, 0, tzinfo=UTC), freeze) == "deny"
    assert outcome_at(datetime(2026, 11, 30, 4, 59, tzinfo=UTC), freeze) == "deny"
    assert outcome_at(datetime(2026, 11, 30, 5, 0, tzinfo=UTC), freeze) == "allow"


def test_freeze_scope_by_kind_and_namespace() -> None:
    frozen_now = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    scoped = {**WEEKEND_BERLIN, "kinds": ["scale"], "namespaces": ["payments-*"]}
    assert outcome_at(frozen_now, scoped) == "allow"  # a restart in boutique
    assert (
        outcome_at(
            frozen_now, scoped, kind="scale", target="payments-eu/deployment/api", params={"replicas": 5}
        )
        == "deny"
    )


def test_a_freeze_may_require_approval_in_addition_to_the_rule() -> None:
    now = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    freeze = {**WEEKEND_BERLIN, "effect": "require_approval", "approval": {"roles": ["incident-commander"]}}
    pol = policy(freezes=[freeze])  # the rule already wants an sre
    req = request()
    at = now - timedelta(minutes=1)
    sre, ic = (
        approval(req, approver="alice", at=at),
        approval(req, approver="ivan", roles=("incident-commander",), at=at),
    )
    assert evaluate(req, pol, state(), [sre], now).outcome == "require_approval"
    assert evaluate(req, pol, state(), [sre, ic], now).outcome == "allow"
    assert evaluate(req, policy(rules=ALLOW_ALL, freezes=[freeze]), state(), [ic], now).outcome == "allow"


@pytest.mark.parametrize(
    ("expression", "now", "duration", "open_at"),
    [
        ("*/15 * * * *", datetime(2026, 1, 1, 10, 7, tzinfo=UTC), timedelta(minutes=10), datetime(2026, 1, 1, 10, 0, tzinfo=UTC)),
        ("*/15 * * * *", datetime(2026, 1, 1, 10, 12, tzinfo=UTC), timedelta(minutes=10), None),
        ("0 0 1 jan *", datetime(2026, 1, 3, tzinfo=UTC), timedelta(days=3), datetime(2026, 1, 1, tzinfo=UTC)),
        ("0 9-17 * * mon-fri", datetime(2026, 3, 7, 9, 30, tzinfo=UTC), timedelta(hours=1), None),  # Saturday
        ("30 9 13 * 5", datetime(2026, 3, 6, 9, 45, tzinfo=UTC), timedelta(hours=1), datetime(2026, 3, 6, 9, 30, tzinfo=UTC)),  # a Friday
        ("0 0 * * 7", datetime(2026, 3, 8, 0, 1, tzinfo=UTC), timedelta(hours=1), datetime(2026, 3, 8, tzinfo=UTC)),  # 7 = Sunday
    ],
)  # fmt: skip
def test_cron_windows(expression: str, now: datetime, duration: timedelta, open_at: datetime | None) -> None:
    assert CronSchedule.parse(expression).window_containing(now, duration, "UTC") == open_at


@pytest.mark.parametrize(
    "expression", ["* * * *", "60 * * * *", "0 0 0 * *", "0 0 * 13 *", "0 0 * * funday", "*/0 * * * *"]
)
def test_bad_cron_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ValueError, match="cron"):
        CronSchedule.parse(expression)
