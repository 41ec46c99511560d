"""Everything a planner may see of a scenario, walked for words that give the answer away (issue 12).

A *tell* names the answer, or the simulator, rather than the world: the scenario's id and title; the
fault and distractor kind names (the FaultKind and DistractorKind literals, with a space, a dash or
nothing in place of the underscore, in any case); the scenario's tags; the `expect` values that are
not names of the world (the expected kind, and the action and tool identifiers it names); and words
only a simulator would write (fault, scenario, injected, hint, an image tag saying "bad"). Service,
deployment, pod and node names are the world itself and are allowed.

A tell matches as a whole word (no letter or digit on either side), so Kubernetes' own
`CrashLoopBackOff`, an alert named `KubePodCrashLooping` or a `Deployment` are not tells, while
`CONFIG_ERROR_HINT`, `fault=cpu_hog` or an image tag `2.0.0-bad` are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import get_args

from agent.diagnosis import FaultKind
from agent.incident import Incident
from agent.planners import prompts
from agent.state import PlannerView
from evals.scenario import DistractorKind, Scenario
from evals.world.model import World

Text = tuple[str, str]  # (where it was seen, the text)

# Words a real cluster's objects, logs and traces do not use but a simulator's author reaches for.
SIMULATOR_WORDS = (
    "fault",
    "faults",
    "faulty",
    "scenario",
    "scenarios",
    "simulated",
    "simulator",
    "simulation",
    "injected",
    "injection",
    "chaos",
    "hint",
    "ground truth",
    "bad",
    "broken",
    "buggy",
)
# Where real software does use one of them: the HTTP reason phrases, a closed socket, a crashed
# process, PostgreSQL's `HINT:` lines. (before, after) the word, as look-arounds.
WORLD_USES = {
    "bad": ("", r"(?!\s+(?:request|gateway)(?![a-z0-9]))"),
    "broken": ("", r"(?!\s+pipe(?![a-z0-9]))"),
    "fault": (r"(?<!segmentation\s)(?<!page\s)", ""),
    "hint": ("", r"(?!\s*:)"),
}


@dataclass(frozen=True)
class Tell:
    what: str  # e.g. "fault kind", "scenario id"
    word: str


def tells_of(scenario: Scenario) -> list[Tell]:
    """The words that must not appear in anything a planner sees of `scenario`."""
    expect = scenario.expect
    found = [Tell("scenario id", scenario.id), Tell("scenario title", scenario.title)]
    found += [Tell("fault kind", kind) for kind in get_args(FaultKind)]
    found += [Tell("distractor kind", kind) for kind in get_args(DistractorKind)]
    found += [Tell("tag", tag) for tag in (scenario.tags.difficulty, *scenario.tags.classes)]
    # Action and tool names are also plain words of operations ("scale", "delete pod"): only their
    # identifier spelling, with its underscore, would be the expectation leaking through.
    identifiers = [a.action for a in expect.remediation] + list(expect.tools)
    found += [Tell("expected action or tool", name) for name in identifiers if "_" in name]
    found += [Tell("simulator word", word) for word in SIMULATOR_WORDS]
    return found


def planner_tells(scenario: Scenario) -> list[Tell]:
    """`tells_of` for what a planner got: action and tool names are its own vocabulary there (every
    request lists the tools, and its own calls come back in the transcript), so they tell nothing."""
    return [t for t in tells_of(scenario) if t.what != "expected action or tool"]


def _pattern(tell: Tell) -> str:
    words = [re.escape(w) for w in re.split(r"[\s_-]+", tell.word.strip()) if w]
    joiner = {"scenario title": r"\s+", "expected action or tool": "_"}.get(tell.what, r"[\s_-]?")
    before, after = WORLD_USES.get(tell.word, ("", "")) if tell.what == "simulator word" else ("", "")
    return before + r"(?<![a-z0-9])" + joiner.join(words) + r"(?![a-z0-9])" + after


class LeakFinder:
    """A scenario's tells, found fast enough to walk a whole world: a plain substring check of each
    tell's longest word over all the text at once rules most tells out before any regex runs."""

    def __init__(self, tells: Iterable[Tell]) -> None:
        self.tells = list(tells)

    def leaks(self, texts: Iterable[Text], limit: int = 20) -> list[str]:
        """`where: <what> 'word' in '…context…'` for each text holding a tell (each text once)."""
        unique: dict[str, str] = {}
        for where, text in texts:
            unique.setdefault(text, where)
        blob = "\n".join(unique).lower()
        candidates = [(t, _needle(t)) for t in self.tells if _needle(t) in blob]
        found: list[str] = []
        for tell, needle in candidates:
            regex = re.compile(_pattern(tell), re.IGNORECASE)
            for text, where in unique.items():
                if needle not in text.lower():
                    continue
                for match in regex.finditer(text):
                    context = text[max(0, match.start() - 60) : match.end() + 60]
                    found.append(f"{where}: {tell.what} {tell.word!r} in {context!r}")
                if len(found) >= limit:
                    return found
        return found


def _needle(tell: Tell) -> str:
    return max(re.split(r"[\s_-]+", tell.word.lower()), key=len)


def json_texts(value: object, where: str) -> Iterator[Text]:
    """Every key and every string or number leaf of a JSON-like value, with its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield where, str(key)
            yield from json_texts(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for n, item in enumerate(value):
            yield from json_texts(item, f"{where}[{n}]")
    elif value is not None:
        yield where, str(value)


def world_texts(world: World) -> Iterator[Text]:
    """What the sandbox serves of a simulated world: metric names, help and labels; Kubernetes objects
    (events among them); pod logs; span names, services, pods and attributes."""
    for family in world.families:
        yield f"metric {family.name}", f"{family.name} {family.help}"
        for series in family.series:
            yield f"metric {series.name}", series.name
            for name, value in series.labels:
                yield f"metric {series.name}", f"{name}={value}"
    for obj in world.objects:
        name = obj.get("metadata", {}).get("name", "?")
        yield from json_texts(obj, f"{obj.get('kind')} {name}")
    for log in world.logs:
        where = f"log {log.pod}/{log.container}{' (previous)' if log.previous else ''}"
        yield where, f"{log.namespace} {log.pod} {log.container}"
        for line in log.lines:
            yield where, line
    for span in world.spans:
        yield f"span of {span.service}", f"{span.service} {span.pod} {span.name} {span.kind}"
        for key, value in span.attributes.items():
            yield f"span of {span.service}", f"{key}={value}"


def incident_texts(incident: Incident) -> Iterator[Text]:
    """The incident as a planner gets it: id, title, scope, the alert's labels and annotations."""
    yield from json_texts(incident.model_dump(mode="json"), "incident")


def view_texts(view: PlannerView) -> Iterator[Text]:
    """What the rules planner decides from: the incident and every tool result (summary, data,
    evidence ids and descriptions). The call ids and tool names are the planner's own words."""
    yield from incident_texts(view.incident)
    for step in view.steps:
        where = f"{step.call.tool} result"
        yield where, step.summary
        yield from json_texts(step.data, where)
        yield from json_texts(step.evidence, where)
    for evidence in view.evidence.values():
        yield from json_texts(evidence.model_dump(mode="json"), f"evidence {evidence.id}")


# The planner's fixed instructions: the same for every incident, so they cannot give one away (the
# diagnosis request lists the fault kinds as the answer's vocabulary).
_FIXED_TEXT = (prompts.INVESTIGATE_SYSTEM, prompts.DIAGNOSE_SYSTEM, prompts.DIAGNOSE_INSTRUCTION)


def request_texts(body: dict[str, object], number: int) -> Iterator[Text]:
    """The messages of one chat-completions request as the model server received it, minus the fixed
    instructions (system prompts, the diagnosis instruction, tool and response schemas) and the
    model's own earlier turns (in a test, the script's words)."""
    for key, value in body.items():  # model, temperature, and any field a client may add (user, metadata)
        if key not in ("messages", "tools", "response_format"):
            yield from json_texts({key: value}, f"request {number}")
    messages = body.get("messages")
    for n, message in enumerate(messages if isinstance(messages, list) else []):
        if not isinstance(message, dict) or message.get("role") in ("system", "assistant"):
            continue
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content)
        for fixed in _FIXED_TEXT:
            text = text.replace(fixed, "")
        yield f"request {number} message {n} ({message.get('role')})", text
