"""The `openai` planner: an LLM chooses the read tools to call, then writes the diagnosis as JSON.

How a move flows with the graph. `plan()` rebuilds the conversation from the thread's transcript
(the assistant turns it returned earlier) and the graph's `steps` (whose bounded summaries become the
`role: tool` results, matched by call id), asks the model, and returns its tool calls. A call with
invalid JSON arguments, arguments its schema rejects, or a tool name that does not exist (or is not a
read tool) is never returned for execution: its error goes into the transcript as that call's tool
result, so the model sees it in the next request and can fix it. If no valid call remains, `plan()`
asks again at once, at most `max_fix_rounds` times. A model that answers without tool calls is done.

The planner cannot act: the model is offered read tools only, and nothing here builds an
`ActionRequest`. `diagnose()` asks for structured output and keeps only hypotheses whose evidence ids
were really observed (`Diagnosis.checked_against`). Neither method raises on a bad model or a dead
endpoint: a move ends `done` with a note, a diagnosis ends INCONCLUSIVE saying why.
"""

from __future__ import annotations

import difflib
import json
import time
from collections.abc import Callable, Collection

from pydantic import JsonValue, ValidationError

from agent.diagnosis import Diagnosis
from agent.planner import DiagnosisResult, Plan
from agent.planners import prompts
from agent.planners.context_budget import ContextOverflow, Message, fit
from agent.planners.openai_client import (
    ChatBackend,
    ChatClient,
    ChatRequest,
    Completion,
    LLMUnavailable,
    OpenAIPlannerConfig,
    RawToolCall,
    count_request_tokens,
)
from agent.planners.openai_transcript import as_log, call_ids, fresh_id, rounds_of
from agent.state import PlannerView, ToolCall
from tools.registry import Registry
from tools.summary import bounded_summary, truncate_to_tokens

__all__ = ["OpenAIPlanner", "OpenAIPlannerConfig"]

MAX_ARGUMENT_CHARS = 2000
CATALOGUE_MAX_TOKENS = 1500
DIAGNOSIS_RETRY_RESERVE = 600  # room for the model's bad answer and our correction on the one retry


class OpenAIPlanner:
    """Planner over any OpenAI-compatible chat-completions endpoint (see module docstring)."""

    name = "openai"

    def __init__(
        self,
        config: OpenAIPlannerConfig,
        registry: Registry,
        *,
        backend: ChatBackend | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._registry = registry
        self._backend = backend if backend is not None else ChatClient(config, sleep=sleep)
        read_specs = [spec for spec in registry.specs if spec.effect == "read"]
        self._read_tools = {spec.name for spec in read_specs}
        self._tools: list[Message] = [spec.json_schema() for spec in read_specs]

    # ---- plan -------------------------------------------------------------------------------------

    def plan(self, view: PlannerView) -> Plan:
        """The model's valid tool calls, or done. Stops before a request whose worst case (prompt plus
        max completion), with as much again kept for the diagnosis, would pass `max_llm_tokens`."""
        added: list[Message] = []
        spent = largest = 0

        def stop(note: str) -> Plan:
            return Plan(done=True, note=note, transcript=added, llm_tokens=spent, request_tokens=largest)

        for _ in range(self._config.max_fix_rounds + 1):
            try:
                request, tokens = self._investigation_request(view, [*view.transcript, *added])
            except ContextOverflow as exc:
                return stop(f"stopped: {exc}")
            worst_case = tokens + self._config.max_completion_tokens
            if view.usage.llm_tokens + spent + 2 * worst_case > view.budget.max_llm_tokens:
                return stop(
                    "stopped: the LLM token budget leaves no room for another round and the diagnosis"
                )
            try:
                completion = self._backend.complete(request)
            except LLMUnavailable as exc:
                return stop(f"stopped: {exc}")
            spent += completion.total_tokens
            largest = max(largest, completion.request_tokens or tokens)
            if not completion.tool_calls:
                added.append({"role": "assistant", "content": completion.content or ""})
                return stop(_first_line(completion.content) or "the model asked for no more tools")
            calls, messages = self._vet(completion, call_ids([*view.transcript, *added]))
            added.extend(messages)
            if calls:
                note = "calling " + ", ".join(call.tool for call in calls)
                return Plan(
                    calls=calls, note=note, transcript=added, llm_tokens=spent, request_tokens=largest
                )
        return stop(f"stopped: the model sent no valid tool call in {self._config.max_fix_rounds + 1} tries")

    def _investigation_request(self, view: PlannerView, transcript: list[Message]) -> tuple[ChatRequest, int]:
        head: list[Message] = [
            {"role": "system", "content": prompts.INVESTIGATE_SYSTEM},
            {"role": "user", "content": prompts.incident_block(view.incident)},
        ]

        def measure(messages: list[Message]) -> int:
            return count_request_tokens(ChatRequest(messages=messages, tools=self._tools))

        fitted = fit(head, rounds_of(view, transcript), measure, self._config.max_request_tokens)
        return ChatRequest(messages=fitted.messages, tools=self._tools), fitted.tokens

    def _vet(self, completion: Completion, used_ids: set[str]) -> tuple[list[ToolCall], list[Message]]:
        """Split the model's calls into valid ones and errors the model will see as their results."""
        calls: list[ToolCall] = []
        declared: list[JsonValue] = []
        errors: list[Message] = []
        for raw in completion.tool_calls:
            call_id = raw.id if raw.id and raw.id not in used_ids else fresh_id(used_ids)
            used_ids.add(call_id)
            problem, args = self._check(raw)
            arguments = raw.arguments if args is not None else "{}"  # never echo broken JSON back
            declared.append(
                {"id": call_id, "type": "function", "function": {"name": raw.name, "arguments": arguments}}
            )
            if problem is not None or args is None:
                errors.append(
                    {"role": "tool", "tool_call_id": call_id, "content": prompts.rejected_call(problem or "")}
                )
            else:
                calls.append(ToolCall(id=call_id, tool=raw.name, args=args))
        assistant: Message = {"role": "assistant", "content": completion.content, "tool_calls": declared}
        return calls, [assistant, *errors]

    def _check(self, raw: RawToolCall) -> tuple[str | None, dict[str, JsonValue] | None]:
        """(problem or None, parsed arguments or None when they are not a JSON object)."""
        if len(raw.arguments) > MAX_ARGUMENT_CHARS:
            return f"arguments for {raw.name} are longer than {MAX_ARGUMENT_CHARS} characters", None
        try:
            parsed = json.loads(raw.arguments or "{}")
        except json.JSONDecodeError as exc:
            shown = truncate_to_tokens(raw.arguments, 60)
            return (
                f"arguments for {raw.name} are not valid JSON ({exc.msg} at position {exc.pos}): {shown}",
                None,
            )
        if not isinstance(parsed, dict):
            return f"arguments for {raw.name} must be a JSON object", None
        if raw.name not in self._read_tools:
            close = difflib.get_close_matches(raw.name, self._read_tools, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            return f"no tool named {raw.name!r} is available (only the listed read-only tools){hint}", parsed
        try:
            self._registry.parse_args(raw.name, parsed)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            return f"invalid arguments for {raw.name}: {problems}", parsed
        return None, parsed

    # ---- diagnose ---------------------------------------------------------------------------------

    def diagnose(self, view: PlannerView) -> DiagnosisResult:
        """The model's structured diagnosis, minus hypotheses citing unobserved evidence; INCONCLUSIVE
        (never an exception) when the endpoint, the budget or two malformed answers prevent one."""
        known = set(view.evidence) | {e for step in view.steps for e in step.evidence}
        response_format = prompts.diagnosis_response_format()
        head: list[Message] = [
            {"role": "system", "content": prompts.DIAGNOSE_SYSTEM},
            {"role": "user", "content": prompts.incident_block(view.incident)},
        ]
        trailer: Message = {"role": "user", "content": self._diagnosis_instruction(view, known)}

        def request_for(middle: list[Message]) -> list[Message]:
            return [*head, as_log(middle), trailer]

        def measure(middle: list[Message]) -> int:
            return count_request_tokens(
                ChatRequest(messages=request_for(middle), response_format=response_format)
            )

        spent = largest = 0

        def result(diagnosis: Diagnosis) -> DiagnosisResult:
            return DiagnosisResult(diagnosis=diagnosis, llm_tokens=spent, request_tokens=largest)

        try:
            budget = self._config.max_request_tokens - DIAGNOSIS_RETRY_RESERVE
            fitted = fit([], rounds_of(view, list(view.transcript)), measure, budget)
        except ContextOverflow as exc:
            return result(_inconclusive(str(exc)))
        messages = request_for(fitted.messages)
        problem = ""
        for _ in range(2):  # one retry with the error, then give up
            request = ChatRequest(messages=messages, response_format=response_format)
            tokens = count_request_tokens(request)
            if (
                view.usage.llm_tokens + spent + tokens + self._config.max_completion_tokens
                > view.budget.max_llm_tokens
            ):
                return result(
                    _inconclusive("the LLM token budget was spent before a diagnosis could be asked for")
                )
            try:
                completion = self._backend.complete(request)
            except LLMUnavailable as exc:
                return result(_inconclusive(str(exc)))
            spent += completion.total_tokens
            largest = max(largest, completion.request_tokens or tokens)
            try:
                diagnosis = prompts.parse_diagnosis(completion.content)
            except ValueError as exc:
                problem = truncate_to_tokens(_explain(exc), 150)
                messages = [
                    *messages,
                    {"role": "assistant", "content": truncate_to_tokens(completion.content or "", 300)},
                    {
                        "role": "user",
                        "content": f"That was not a valid diagnosis: {problem}. Send only the JSON object.",
                    },
                ]
                continue
            return result(diagnosis.checked_against(known))
        return result(_inconclusive(f"the model's answer was not a valid diagnosis twice ({problem})"))

    def _diagnosis_instruction(self, view: PlannerView, known: Collection[str]) -> str:
        """The closing request, with the catalogue of evidence ids the model may cite (bounded)."""
        header = prompts.DIAGNOSE_INSTRUCTION + "\n" + prompts.CATALOGUE_HEADER
        if not known:
            return header + "\n(none: no hypothesis can be supported; say healthy or explain in summary)"
        lines = []
        for evidence_id in sorted(known):
            evidence = view.evidence.get(evidence_id)
            described = truncate_to_tokens(evidence.description, 30) if evidence else ""
            lines.append(f"- {evidence_id}" + (f": {described}" if described else ""))
        text, _ = bounded_summary(header, lines, max_tokens=CATALOGUE_MAX_TOKENS, unit="evidence ids")
        return text


def _inconclusive(reason: str) -> Diagnosis:
    """No hypotheses and not healthy: the investigation could not conclude, and says why."""
    return Diagnosis(healthy=False, summary=f"INCONCLUSIVE: {reason}", hypotheses=[])


def _explain(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:5]
        )
    return str(exc)


def _first_line(text: str | None) -> str:
    line = next((part for part in (text or "").splitlines() if part.strip()), "")
    return line[:200]
