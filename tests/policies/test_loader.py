"""Policy YAML errors name the file, the line and the field; duplicate keys are refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from policies.loader import PolicyError, load_default_policy, load_policy

GOOD = """\
version: 1
mode: enforce
rules:
  - name: restarts
    kinds: [rollout_restart]
    namespaces: [boutique]
    effect: allow
limits:
  scale: {max_factor_up: 2, max_factor_down: 2}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[tuple[int, str, str]]:
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    for problem in caught.value.problems:
        assert problem.file == str(path)
        assert str(path) in str(caught.value)
    return [(p.line, p.field, p.message) for p in caught.value.problems]


def test_a_good_policy_loads(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, GOOD))
    assert policy.mode == "enforce" and policy.rules[0].name == "restarts"


@pytest.mark.parametrize(
    ("text", "line", "field", "needle"),
    [
        (GOOD.replace("mode: enforce", "mode: enforcing"), 2, "mode", "'enforcing'"),
        (GOOD.replace("kinds: [rollout_restart]", "kinds: [rollout_restart, drain]"), 5, "rules[0].kinds[1]", "drain"),
        (GOOD.replace("effect: allow", "effect: allow\n    aproval: {roles: [sre]}"), 8, "rules[0].aproval", "unknown field"),
        (GOOD.replace("max_factor_up: 2", "max_factor_up: 0.5"), 9, "limits.scale.max_factor_up", "greater than or equal to 1"),
        (GOOD.replace("effect: allow", "effect: require_approval"), 4, "rules[0]", "approval: required"),
        (GOOD + "freezes:\n  - {name: f, cron: '0 25 * * *', duration: 1h}\n", 11, "freezes[0].cron", "hour"),
        (GOOD + "freezes:\n  - name: f\n    start: 2026-01-01T00:00:00\n    end: 2026-01-02T00:00:00\n"
         "    timezone: Mars/Olympus\n", 14, "freezes[0].timezone", "unknown time zone"),
        (GOOD + "freezes:\n  - {name: f, cron: '0 18 * * fri', duration: 2 days}\n", 11, "freezes[0].duration", "malformed duration"),
        (GOOD.replace("    effect: allow\n", ""), 4, "rules[0].effect", "required field is missing"),
    ],
)  # fmt: skip
def test_each_mistake_names_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, needle: str
) -> None:
    found = problems_of(write(tmp_path, text))
    assert any(p[0] == line and p[1] == field and needle in p[2] for p in found), found


@pytest.mark.parametrize(
    ("window", "needle"),
    [
        ("-1h", "'-1h': a duration cannot be negative"),
        ("0s", "must be positive"),
        ("-3600", "must be positive"),
    ],
)
def test_a_history_window_that_is_not_positive_is_refused(tmp_path: Path, window: str, needle: str) -> None:
    found = problems_of(write(tmp_path, GOOD + f"history:\n  window: {window}\n"))
    assert [(line, field) for line, field, _ in found] == [(11, "history.window")]
    assert needle in found[0][2], found


def test_the_history_window_defaults_to_a_day_and_loads_from_the_file(tmp_path: Path) -> None:
    assert load_policy(write(tmp_path, GOOD)).history.window == timedelta(hours=24)
    custom = load_policy(write(tmp_path, GOOD + "history: {window: 3d}\n"))
    assert custom.history.window == timedelta(days=3)


def test_several_mistakes_are_all_reported(tmp_path: Path) -> None:
    text = GOOD.replace("mode: enforce", "mode: yolo").replace("max_factor_down: 2", "max_factor_down: -1")
    found = problems_of(write(tmp_path, text))
    assert {(line, field) for line, field, _ in found} == {(2, "mode"), (9, "limits.scale.max_factor_down")}


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, GOOD + "mode: dry_run\n"))
    assert found == [(10, "mode", "duplicate key")]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, GOOD.replace("kinds: [rollout_restart]", "kinds: [rollout_restart")))
    assert found[0][0] in (5, 6) and "not valid YAML" in found[0][2]


def test_empty_file_and_non_mapping_are_refused(tmp_path: Path) -> None:
    assert "empty" in problems_of(write(tmp_path, ""))[0][2]
    assert "mapping" in problems_of(write(tmp_path, "- a\n- b\n"))[0][2]


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")


def test_default_policy_loads() -> None:
    policy = load_default_policy()
    assert policy.mode == "dry_run" and policy.default_effect == "deny"
