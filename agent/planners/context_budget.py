"""Keeping every LLM request under `max_request_tokens`, however long the investigation runs.

The conversation is a fixed head (system prompt, incident block) and rounds (an assistant turn and
the results of its tool calls). When the request would be too large it is shrunk in steps, each only
if the previous one was not enough:

1. every round but the latest is replaced by one-line digests (tool, status, first summary line,
   evidence ids); the latest round, the one the model is reacting to, stays in full;
2. the oldest digested rounds are dropped, with a one-line note saying how many and which tools;
3. the latest round's results are cut to an equal share of what is left.

If the head alone does not fit, `ContextOverflow` says so: no request is sent that breaks the budget.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import JsonValue

from tools.summary import count_tokens, truncate_to_tokens

Message = dict[str, JsonValue]
Measure = Callable[[list[Message]], int]
OLD_CONTENT_MAX_TOKENS = 60
MIN_RESULT_TOKENS = 24


class ContextOverflow(RuntimeError):
    """Even the smallest form of the conversation is larger than the request budget."""


@dataclass(frozen=True)
class ToolReply:
    """A tool result in two sizes: as the model first saw it, and as a one-line digest."""

    tool_call_id: str
    full: str
    digest: str

    def message(self, content: str) -> Message:
        return {"role": "tool", "tool_call_id": self.tool_call_id, "content": content}


@dataclass(frozen=True)
class Round:
    """An assistant turn (with or without tool calls) and the replies to its calls, in call order."""

    assistant: Message
    replies: list[ToolReply] = field(default_factory=list)

    @property
    def tools(self) -> list[str]:
        calls = self.assistant.get("tool_calls")
        names: list[str] = []
        for call in calls if isinstance(calls, list) else []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                names.append(str(function["name"]))
        return names

    def full(self, result_cap: int | None = None) -> list[Message]:
        replies = [
            r.message(r.full if result_cap is None else truncate_to_tokens(r.full, result_cap))
            for r in self.replies
        ]
        return [self.assistant, *replies]

    def digested(self) -> list[Message]:
        assistant = dict(self.assistant)
        content = assistant.get("content")
        if isinstance(content, str) and content:
            assistant["content"] = truncate_to_tokens(content, OLD_CONTENT_MAX_TOKENS)
        return [assistant, *(r.message(r.digest) for r in self.replies)]


@dataclass(frozen=True)
class Fitted:
    messages: list[Message]
    tokens: int
    compaction: str = field(default="none", metadata={"doc": "none | digests | dropped | truncated"})


def fit(head: list[Message], rounds: list[Round], measure: Measure, max_tokens: int) -> Fitted:
    """The largest form of `head + rounds` whose request, as `measure` counts it, fits `max_tokens`."""
    full = head + [m for r in rounds for m in r.full()]
    tokens = measure(full)
    if tokens <= max_tokens:
        return Fitted(full, tokens)
    if not rounds:
        raise ContextOverflow(f"the prompt alone is {tokens} tokens, over the {max_tokens} budget")

    *older, latest = rounds
    digests = [m for r in older for m in r.digested()]
    for dropped in range(len(older) + 1):
        note = _omitted_note(older[:dropped])
        kept = [m for r in older[dropped:] for m in r.digested()] if dropped else digests
        messages = head + note + kept + latest.full()
        tokens = measure(messages)
        if tokens <= max_tokens:
            return Fitted(messages, tokens, "digests" if dropped == 0 else "dropped")

    note = _omitted_note(older)
    return _truncate_latest(head + note, latest, measure, max_tokens)


def _truncate_latest(prefix: list[Message], latest: Round, measure: Measure, max_tokens: int) -> Fitted:
    """Cut each of the latest results to the largest equal cap that fits (found by bisection)."""
    longest = max((count_tokens(r.full) for r in latest.replies), default=0)
    low, high = MIN_RESULT_TOKENS, max(MIN_RESULT_TOKENS, longest)
    best: Fitted | None = None
    while low <= high:
        cap = (low + high) // 2
        messages = prefix + latest.full(result_cap=cap)
        tokens = measure(messages)
        if tokens <= max_tokens:
            best, low = Fitted(messages, tokens, "truncated"), cap + 1
        else:
            high = cap - 1
    if best is None:
        smallest = measure(prefix + latest.full(result_cap=MIN_RESULT_TOKENS))
        raise ContextOverflow(
            f"even with every old round dropped and results cut to {MIN_RESULT_TOKENS} tokens the request "
            f"is {smallest} tokens, over the {max_tokens} budget: raise max_request_tokens or list fewer tools"
        )
    return best


def _omitted_note(rounds: list[Round]) -> list[Message]:
    if not rounds:
        return []
    counts = Counter(name for r in rounds for name in r.tools)
    tools = ", ".join(f"{name} x{n}" for name, n in counts.most_common())
    text = (
        f"[context note] {len(rounds)} earlier round(s) were omitted to fit the context window "
        f"(tools called: {tools or 'none'}). Their evidence still counts for the diagnosis."
    )
    return [{"role": "user", "content": truncate_to_tokens(text, 120)}]
