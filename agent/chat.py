"""Chat about an incident, answered only from what its investigation observed.

The rules planner understands a fixed set of questions — status, evidence for X, why not Y, what
changed, what would you do — and says plainly when a question is not one of them. Answers quote the
report (hypotheses, evidence, ruled-out notes, the proposal and the guard's state), never the
world's free text as instructions, and never invent: what was not examined is said to be unexamined.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from agent.report import Report

Intent = Literal["status", "evidence_for", "why_not", "what_changed", "what_would_you_do", "unknown", "free"]
HELP = (
    "I can answer: 'status', 'evidence for <service>', 'why not <service>', 'what changed', "
    "'what would you do'."
)
_CHANGE = re.compile(r"rollout|revision|deploy|image|rolled|restart|scaled", re.I)


class ChatAnswer(BaseModel):
    intent: Intent
    text: str
    evidence: list[str] = Field(default_factory=list, description="ids of the evidence the answer quotes")


def classify(question: str) -> tuple[Intent, str | None]:
    """The intent of a question and the entity it names, if any."""
    q = " ".join(question.lower().split()).rstrip("?!. ")
    if m := re.search(r"why (?:not|isn'?t it|is it not) ([\w./-]+)", q):
        return "why_not", m.group(1)
    if m := re.search(r"(?:evidence|proof) (?:for|of|that|on) ([\w./-]+)", q) or re.search(
        r"why (?:do you think|is it|blame) ([\w./-]+)", q
    ):
        return "evidence_for", m.group(1)
    if re.search(r"what (?:has )?changed|recent (?:change|deploy|rollout)s?|any (?:deploy|rollout)s?", q):
        return "what_changed", None
    if re.search(r"what (?:would|should|will) (?:you|we) do|(?:fix|remediat|action|mitigat)", q):
        return "what_would_you_do", None
    if re.search(
        r"^(?:status|state|update|progress)$|where are we|what(?:'s| is) (?:going on|wrong|the status)", q
    ):
        return "status", None
    return "unknown", None


def answer(question: str, report: Report | None, state: str) -> ChatAnswer:
    """The rules planner's answer to one chat message about an incident."""
    intent, entity = classify(question)
    if report is None:
        return ChatAnswer(
            intent=intent, text=f"The investigation has not produced findings yet (state: {state})."
        )
    if intent == "status":
        return _status(report, state)
    if intent == "evidence_for":
        return _evidence_for(report, entity or "")
    if intent == "why_not":
        return _why_not(report, entity or "")
    if intent == "what_changed":
        return _what_changed(report)
    if intent == "what_would_you_do":
        return _what_would_you_do(report)
    return ChatAnswer(intent="unknown", text=f"I cannot answer that from this incident's evidence. {HELP}")


def _status(report: Report, state: str) -> ChatAnswer:
    parts = [f"State: {state}.", report.verdict]
    if report.guard and report.guard.decision:
        parts.append(
            f"Proposed action: {_action(report)} — {report.guard.execution or report.guard.decision}."
        )
    return ChatAnswer(intent="status", text=" ".join(parts), evidence=report.cited[:5])


def _matches(entity: str, *names: str | None) -> bool:
    wanted = entity.casefold().removeprefix("node/").removeprefix("pod/")
    return any(n is not None and wanted in n.casefold() for n in names)


def _evidence_for(report: Report, entity: str) -> ChatAnswer:
    hypotheses = report.diagnosis.hypotheses if report.diagnosis else []
    for h in hypotheses:
        if _matches(entity, h.entity, h.service):
            known = {e.id: e for e in report.evidence}
            lines = [f"{h.label} {h.kind_text} on {h.entity} (confidence {h.confidence:.2f}):"]
            lines += [f"- {known[i].description} [{i}]" for i in h.evidence if i in known]
            return ChatAnswer(intent="evidence_for", text="\n".join(lines), evidence=list(h.evidence))
    return ChatAnswer(
        intent="evidence_for",
        text=f"No hypothesis names {entity}: the investigation found no evidence against it.",
    )


def _why_not(report: Report, entity: str) -> ChatAnswer:
    diagnosis = report.diagnosis
    notes = [
        n for h in (diagnosis.hypotheses if diagnosis else []) for n in h.ruled_out if _matches(entity, n)
    ]
    if notes:
        return ChatAnswer(intent="why_not", text="Ruled out: " + " ".join(notes))
    for h in diagnosis.hypotheses[1:] if diagnosis else []:
        if _matches(entity, h.entity, h.service):
            top = diagnosis.top if diagnosis else None
            lead = f"{top.entity} at {top.confidence:.2f}" if top else "another entity"
            return ChatAnswer(
                intent="why_not",
                text=f"{h.entity} is a weaker hypothesis ({h.confidence:.2f}) than {lead}.",
                evidence=list(h.evidence),
            )
    if diagnosis and diagnosis.top and _matches(entity, diagnosis.top.entity, diagnosis.top.service):
        return ChatAnswer(intent="why_not", text=f"{entity} is the leading hypothesis: {report.verdict}")
    return ChatAnswer(
        intent="why_not", text=f"{entity} was not singled out; nothing in the evidence points at it."
    )


def _what_changed(report: Report) -> ChatAnswer:
    changes = [e for e in report.evidence if _CHANGE.search(e.description)]
    ruled = [n for h in (report.diagnosis.hypotheses if report.diagnosis else []) for n in h.ruled_out]
    lines = [f"- {e.description} [{e.id}]" for e in changes[:6]]
    lines += [f"- {n}" for n in ruled if _CHANGE.search(n)][:4]
    if not lines:
        return ChatAnswer(intent="what_changed", text="The investigation saw no rollout or other change.")
    return ChatAnswer(
        intent="what_changed", text="Changes seen:\n" + "\n".join(lines), evidence=[e.id for e in changes[:6]]
    )


def _action(report: Report) -> str:
    action = report.proposal.action if report.proposal else None
    return f"{action.kind} {action.target}" if action else "none"


def _what_would_you_do(report: Report) -> ChatAnswer:
    proposal = report.proposal
    if proposal is None:
        return ChatAnswer(
            intent="what_would_you_do", text="No proposal yet: the investigation has not finished."
        )
    if proposal.action is None:
        return ChatAnswer(
            intent="what_would_you_do", text=f"No action: {proposal.escalation or proposal.reason}"
        )
    guard = report.guard
    text = f"I propose {_action(report)}: {proposal.reason}"
    if guard is not None:
        text += f" Policy: {guard.decision}. Approval: {guard.approval or 'n/a'}. {guard.execution or ''}".rstrip()
    return ChatAnswer(intent="what_would_you_do", text=text, evidence=list(proposal.action.evidence))
