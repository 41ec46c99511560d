"""Runbook files: the shipped one covers every fault kind; a broken one is refused at load time with
the file and the field named, so a typo never becomes a malformed action mid-incident."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from agent.diagnosis import FaultKind
from agent.runbook import DEFAULT_RUNBOOK_PATH, RunbookError, load_runbook, parse_runbook

RUNBOOK = load_runbook()


def test_shipped_runbook_covers_every_fault_kind() -> None:
    assert {e.kind for e in RUNBOOK.entries} == set(get_args(FaultKind))
    assert RUNBOOK.min_confidence == pytest.approx(0.6)


ENTRY = "  - id: e1\n    kind: bad_deploy\n    why: because\n"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            "min_confidence: 0.6\nentries:\n  - id: e1\n    kind: disk_full\n    escalate: x\n    why: y\n",
            "entries[0].kind",
            "bad_deploy",
        ),
        (
            ENTRY + "    action: {kind: rollback, target: $namespace/deploy/$service}\n",
            "entries[0].action",
            "expected <namespace>/deployment/<name>",
        ),
        (
            ENTRY + "    action: {kind: rollback, target: $namespace/deployment/$owner}\n",
            "entries[0].action",
            "unknown placeholders owner",
        ),
        (
            ENTRY + "    action: {kind: cordon, target: $namespace/deployment/$service}\n",
            "entries[0].action",
            "cordon acts on a node",
        ),
        (
            ENTRY + "    action: {kind: scale, target: $namespace/deployment/$service}\n",
            "entries[0]",
            "needs a `scale:` block",
        ),
        (
            ENTRY
            + "    action: {kind: scale, target: $namespace/deployment/$service, params: {replicas: 100}}\n"
            "    scale: {}\n",
            "entries[0].action",
            "replicas are computed",
        ),
        (
            ENTRY
            + "    action: {kind: rollback, target: $namespace/deployment/$service, params: {replicas: 2}}\n",
            "entries[0].action",
            "params.replicas",
        ),
        (
            ENTRY
            + "    action: {kind: rollback, target: $namespace/deployment/$service}\n    escalate: owner\n",
            "entries[0]",
            "exactly one of",
        ),
        (ENTRY + "    action: {kind: reboot, target: node/$node}\n", "entries[0].action.kind", "scale"),
        (ENTRY + "    escalate: x\n    surprise: 1\n", "entries[0].surprise", "Extra inputs"),
        ("min_confidence: 1.5\n" + "entries:\n" + ENTRY + "    escalate: x\n", "min_confidence", "less than"),
        (
            "entries:\n" + ENTRY + "    escalate: x\n" + ENTRY + "    escalate: y\n",
            "(top level)",
            "duplicate",
        ),
        ("entries: [\n", "", "not valid YAML"),
        ("- just a list\n", "", "expected a mapping"),
    ],
)
def test_bad_runbooks_are_refused_naming_file_and_field(
    tmp_path: Path, body: str, field: str, message: str
) -> None:
    path = tmp_path / "team-runbook.yaml"
    path.write_text(body if body.startswith(("min_", "entries", "- ")) else "entries:\n" + body)
    with pytest.raises(RunbookError) as caught:
        load_runbook(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: {field}"), text
    assert message in text, text


def test_a_missing_runbook_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RunbookError, match="cannot read the runbook"):
        load_runbook(tmp_path / "nope.yaml")


def test_the_shipped_runbook_round_trips_through_parse() -> None:
    again = parse_runbook(DEFAULT_RUNBOOK_PATH.read_text(), source=str(DEFAULT_RUNBOOK_PATH))
    assert again == RUNBOOK
