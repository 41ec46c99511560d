"""Policy YAML → `Policy`, with errors an operator can act on: file, line, field, what is wrong.

Pydantic reports a location as a path of keys (`rules[2].approval.roles`); the YAML node tree knows
where each key sits. We compose the node tree, record the line of every path, and map each error to
the deepest path the file actually contains. Duplicate keys are refused: in a safety policy, a
second `mode:` silently winning over the first is a bug waiting to happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from policies.model import Policy

DEFAULT_POLICY_PATH = Path(__file__).parent / "default.yaml"

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class PolicyProblem:
    file: str
    line: int  # 1-based
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field or '(top level)'}: {self.message}"


class PolicyError(ValueError):
    """A policy file that cannot be used; every problem names the file, the line and the field."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_policy(path: str | Path) -> Policy:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise PolicyError(
            [PolicyProblem(str(path), 1, "", f"cannot read the policy file: {exc.strerror}")]
        ) from None
    return parse_policy(text, source=str(path))


def load_default_policy() -> Policy:
    """The shipped policy: dry_run mode, protected namespaces, bounded blast radius."""
    return load_policy(DEFAULT_POLICY_PATH)


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise PolicyError([PolicyProblem(source, line, "", f"not valid YAML: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise PolicyError([PolicyProblem(source, 1, "", f"not valid YAML: {exc}")]) from None
    if root is None:
        raise PolicyError([PolicyProblem(source, 1, "", "the policy file is empty")])
    if not isinstance(root, yaml.MappingNode):
        raise PolicyError(
            [PolicyProblem(source, root.start_mark.line + 1, "", "expected a mapping of policy fields")]
        )
    lines: dict[Loc, int] = {}
    problems: list[PolicyProblem] = []
    _index(root, (), lines, problems, source)
    if problems:
        raise PolicyError(problems)
    data = yaml.SafeLoader(text).get_single_data()
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError([_problem(error, lines, source) for error in exc.errors()]) from None


def _index(
    node: yaml.Node, path: Loc, lines: dict[Loc, int], problems: list[PolicyProblem], source: str
) -> None:
    """Record the line of every key and item below `node`; report duplicate keys."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                problems.append(
                    PolicyProblem(source, key_node.start_mark.line + 1, _dotted(child), "duplicate key")
                )
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _index(value_node, child, lines, problems, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), lines, problems, source)


def _problem(error: ErrorDetails, lines: dict[Loc, int], source: str) -> PolicyProblem:
    loc = error["loc"]
    assert isinstance(loc, tuple)
    # Keep the segments the file contains; pydantic adds its own (union members, validator names).
    path: Loc = ()
    for segment in loc:
        if (*path, segment) in lines:
            path = (*path, segment)
    line = lines.get(path, 1)
    message = str(error["msg"]).removeprefix("Value error, ")
    kind = error["type"]
    field = _dotted(path)
    if kind == "missing":
        field = _dotted(tuple(s for s in loc if isinstance(s, int | str)))
        message = "required field is missing"
    elif kind == "extra_forbidden":
        message = "unknown field (check the spelling against policies/default.yaml)"
    elif kind == "literal_error":
        ctx = error.get("ctx")
        expected = ctx.get("expected") if isinstance(ctx, dict) else None
        message = f"unknown value {error.get('input')!r}; expected {expected}"
    return PolicyProblem(source, line, field, message)


def _dotted(path: Loc) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
