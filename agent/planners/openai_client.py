"""The HTTP side of the OpenAI planner: one chat-completions request, retried, streamed or not, counted.

Every request leaves through `ChatClient.complete`. The openai package's own retries are off so that
the backoff here is the only one, bounded by `max_retries`, and its sleep is injectable (tests do not
wait). Errors:

    LLMUnavailable        no usable answer: retries exhausted on 429/5xx/timeouts/connection errors,
                          or a request the endpoint refused (401, 400, ...); the message says which

Token accounting: `usage` from the endpoint when it sends one; otherwise prompt tokens are our own
cl100k count of the request and completion tokens a cl100k count of the answer. `request_tokens` is
always our own count of the serialized messages + tools + response_format, the number the context
budget is enforced on.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Protocol

import openai
from pydantic import BaseModel, ConfigDict, Field, JsonValue, SecretStr, field_validator

from tools.summary import count_tokens
from tools.tracing import tracer

Message = dict[str, JsonValue]
RETRYABLE_STATUS = frozenset({408, 409, 429})


def _transport_error_types() -> tuple[type[Exception], ...]:
    """openai wraps transport errors in APIConnectionError, except those raised while a stream is
    read; those come from its HTTP library, which is `httpx` or (openai >= 3) `httpx2`."""
    types: list[type[Exception]] = [openai.APIConnectionError]
    for module in ("httpx", "httpx2"):
        try:
            types.append(importlib.import_module(module).TransportError)
        except (ImportError, AttributeError):
            continue
    return tuple(types)


_TRANSPORT_ERRORS = _transport_error_types()


class OpenAIPlannerConfig(BaseModel):
    """What the OpenAI planner needs; `server/settings.py` composes it (MEDIC_OPENAI_*)."""

    model_config = ConfigDict(frozen=True)

    base_url: str = Field("https://api.openai.com/v1", description="any OpenAI-compatible endpoint")
    api_key: SecretStr = Field(description="sent as a bearer token; any non-empty value for keyless servers")
    model: str = "gpt-4o-mini"
    timeout_s: float = Field(60.0, gt=0, le=600, description="per HTTP request")
    max_retries: int = Field(4, ge=0, le=10, description="on 429, 5xx, timeouts and connection errors")
    backoff_base_s: float = Field(1.0, ge=0, description="first retry delay; doubles on each retry")
    backoff_max_s: float = Field(30.0, ge=0, description="cap on one delay, Retry-After included")
    max_request_tokens: int = Field(8000, ge=2000, description="largest request sent, cl100k tokens")
    max_completion_tokens: int = Field(1500, ge=64, description="longest answer asked for")
    temperature: float = Field(0.0, ge=0, le=2)
    stream: bool = False
    max_fix_rounds: int = Field(2, ge=0, le=5, description="re-asks in one move when every call was invalid")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL, e.g. https://api.openai.com/v1")
        return value.rstrip("/")

    @field_validator("api_key")
    @classmethod
    def _non_empty_key(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("api_key is empty: set MEDIC_OPENAI_API_KEY (any value for keyless servers)")
        return value


class LLMUnavailable(RuntimeError):
    """The endpoint gave no usable answer; the message says why and whether retries were spent."""


class RawToolCall(BaseModel):
    """A tool call as the model sent it: arguments are an unparsed, untrusted string."""

    id: str
    name: str
    arguments: str


class ChatRequest(BaseModel):
    messages: list[Message]
    tools: list[Message] | None = None
    response_format: Message | None = None


class Completion(BaseModel):
    """One answer, and what it cost."""

    content: str | None = None
    tool_calls: list[RawToolCall] = Field(default_factory=list)
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    request_tokens: int = Field(0, description="our cl100k count of the request sent")
    attempts: int = 1

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ChatBackend(Protocol):
    """What the planner needs from an LLM endpoint (the real one is `ChatClient`)."""

    def complete(self, request: ChatRequest) -> Completion: ...


def count_request_tokens(request: ChatRequest) -> int:
    """cl100k tokens of what is sent: messages, tool declarations and the response schema."""
    payload = request.model_dump(exclude_none=True)
    return count_tokens(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))


class ChatClient:
    """Chat completions against one OpenAI-compatible endpoint, with bounded exponential backoff."""

    def __init__(self, config: OpenAIPlannerConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._config = config
        self._sleep = sleep
        self._client = openai.OpenAI(
            api_key=config.api_key.get_secret_value(),
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=0,
        )

    def close(self) -> None:
        self._client.close()

    def complete(self, request: ChatRequest) -> Completion:
        """One answer, in a span with the GenAI semantic conventions (model, token counts)."""
        with tracer.start_as_current_span(f"chat {self._config.model}") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            span.set_attribute("gen_ai.provider.name", "openai")
            span.set_attribute("gen_ai.request.model", self._config.model)
            completion = self._complete(request)
            span.set_attribute("gen_ai.usage.input_tokens", completion.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", completion.completion_tokens)
            if completion.finish_reason:
                span.set_attribute("gen_ai.response.finish_reasons", [completion.finish_reason])
            return completion

    def _complete(self, request: ChatRequest) -> Completion:
        request_tokens = count_request_tokens(request)
        attempts = self._config.max_retries + 1
        for attempt in range(attempts):
            try:
                completion = self._once(request)
            except _TRANSPORT_ERRORS as exc:  # timeouts and connections dropped mid-stream included
                failure: Exception = exc
                retry_after = None
            except openai.APIStatusError as exc:
                if exc.status_code < 500 and exc.status_code not in RETRYABLE_STATUS:
                    raise LLMUnavailable(
                        f"the LLM endpoint refused the request ({exc.status_code}): {exc.message}"
                    ) from exc
                failure, retry_after = exc, _retry_after(exc.response.headers)
            except openai.APIError as exc:  # e.g. an error event inside a stream
                raise LLMUnavailable(f"the LLM endpoint answered with an error: {exc.message}") from exc
            else:
                return _accounted(completion, request_tokens, attempt + 1)
            if attempt + 1 == attempts:
                raise LLMUnavailable(
                    f"the LLM endpoint failed {attempts} times; last: {_describe(failure)}"
                ) from failure
            delay = self._config.backoff_base_s * 2**attempt
            if retry_after is not None:
                delay = max(delay, retry_after)
            self._sleep(min(delay, self._config.backoff_max_s))
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, request: ChatRequest) -> Completion:
        kwargs: dict[str, object] = {
            "model": self._config.model,
            "messages": request.messages,
            "temperature": self._config.temperature,
            "max_completion_tokens": self._config.max_completion_tokens,
        }
        if request.tools:
            kwargs["tools"] = request.tools
            kwargs["parallel_tool_calls"] = True
        if request.response_format is not None:
            kwargs["response_format"] = request.response_format
        if self._config.stream:
            return self._streamed(kwargs)
        response = self._client.chat.completions.create(**kwargs)  # type: ignore[call-overload]
        if not response.choices:  # e.g. a content filter on a compatible server: no answer at all
            raise LLMUnavailable("the model returned no choices")
        choice = response.choices[0]
        calls = [
            RawToolCall(
                id=call.id or "", name=call.function.name or "", arguments=call.function.arguments or ""
            )
            for call in choice.message.tool_calls or []
            if call.type == "function"
        ]
        usage = response.usage
        return Completion(
            content=choice.message.content,
            tool_calls=calls,
            finish_reason=choice.finish_reason,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    def _streamed(self, kwargs: dict[str, object]) -> Completion:
        """Assemble content and tool-call deltas (keyed by index: parallel calls may interleave)."""
        content: list[str] = []
        slots: dict[int, dict[str, str]] = {}
        finish_reason: str | None = None
        prompt_tokens = completion_tokens = 0
        stream = self._client.chat.completions.create(  # type: ignore[call-overload]
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
        with stream:
            for chunk in stream:
                if chunk.usage is not None:
                    prompt_tokens, completion_tokens = (
                        chunk.usage.prompt_tokens,
                        chunk.usage.completion_tokens,
                    )
                for choice in chunk.choices:
                    finish_reason = choice.finish_reason or finish_reason
                    if choice.delta.content:
                        content.append(choice.delta.content)
                    for delta in choice.delta.tool_calls or []:
                        slot = slots.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                        slot["id"] = delta.id or slot["id"]
                        if delta.function is not None:
                            name = delta.function.name or ""
                            if name and name != slot["name"]:
                                slot["name"] += name
                            slot["arguments"] += delta.function.arguments or ""
        return Completion(
            content="".join(content) or None,
            tool_calls=[RawToolCall(**slots[index]) for index in sorted(slots)],
            finish_reason=finish_reason,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )


def _accounted(completion: Completion, request_tokens: int, attempts: int) -> Completion:
    """Fill in token counts the endpoint did not report, with our own cl100k count."""
    update: dict[str, int] = {"request_tokens": request_tokens, "attempts": attempts}
    if completion.prompt_tokens == 0 and completion.completion_tokens == 0:
        answer = (completion.content or "") + "".join(c.name + c.arguments for c in completion.tool_calls)
        update |= {"prompt_tokens": request_tokens, "completion_tokens": count_tokens(answer)}
    return completion.model_copy(update=update)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _describe(exc: Exception) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {exc.message}"
    if isinstance(exc, openai.APITimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}"
