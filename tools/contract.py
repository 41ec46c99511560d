"""The tool contract (DESIGN §3.1): one way to declare a tool, one result type, one way to run it.

A tool is a typed function `fn(ctx: ToolContext, args: SomeInput) -> ToolResult` decorated with
`@tool(effect="read")` (or `"action"`, returning an `ActionRequest` instead). Its pydantic input model
becomes the LLM-facing JSON schema and its docstring the description. Tools are listed in one
registry (`tools.registry`); `Registry.run` validates arguments and maps `ToolError`s to results, so a
planner never handles exceptions or tracebacks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue

if TYPE_CHECKING:
    from tools.context import ToolContext

Effect = Literal["read", "action"]
Status = Literal["ok", "no_data", "error"]


class Evidence(BaseModel):
    """A fact a tool observed, with an id that hypotheses and reports can cite."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="stable within an investigation, e.g. 'prom:golden:checkout:3f9a'")
    source: str = Field(description="prometheus | traces | kubernetes | logs | anomaly")
    description: str
    query: str | None = Field(None, description="what was asked of the backend, for reproduction")


def evidence_id(source: str, tool: str, subject: str | None, *key: object) -> str:
    """A stable, citeable id: the same question at the same `as_of` gets the same id in every replay,
    e.g. `prom:golden.error_ratio:checkout:3f9a1c0b2d`. `key` is what makes the observation unique
    (the query and the instant); `subject` keeps the id readable."""
    digest = hashlib.sha256("\x1f".join(str(k) for k in key).encode()).hexdigest()[:10]
    return ":".join(part for part in (source, tool, subject, digest) if part)


class ToolResult(BaseModel):
    """What every read tool returns: status, structured data for code, a bounded summary for an LLM."""

    status: Status
    data: dict[str, JsonValue] = Field(default_factory=dict)
    summary: str = ""
    evidence: list[Evidence] = Field(default_factory=list)
    truncated: bool = False
    retryable: bool = Field(False, description="on error: fixing the arguments may succeed")


InputT = TypeVar("InputT", bound=BaseModel)


@dataclass(frozen=True)
class ToolSpec:
    """What the registry knows about a tool."""

    name: str
    effect: Effect
    description: str
    input_model: type[BaseModel]
    fn: Callable[..., object]

    def json_schema(self) -> dict[str, JsonValue]:
        """The OpenAI function-calling declaration of this tool."""
        schema = self.input_model.model_json_schema()
        schema.pop("title", None)
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": schema},
        }


def tool(
    *, effect: Effect, name: str | None = None
) -> Callable[[Callable[[ToolContext, InputT], object]], Callable[[ToolContext, InputT], object]]:
    """Declare a tool. The input model is read from the second parameter's annotation."""

    def decorate(fn: Callable[[ToolContext, InputT], object]) -> Callable[[ToolContext, InputT], object]:
        import inspect
        import typing

        params = list(inspect.signature(fn).parameters)
        if len(params) != 2:
            raise TypeError(f"tool {fn.__name__} must take (ctx, args)")
        hints = typing.get_type_hints(fn)
        input_model = hints[params[1]]
        if not (isinstance(input_model, type) and issubclass(input_model, BaseModel)):
            raise TypeError(f"tool {fn.__name__}: args must be annotated with a pydantic model")
        doc = inspect.getdoc(fn)
        if not doc:
            raise TypeError(f"tool {fn.__name__} needs a docstring: it is the tool's description")
        spec = ToolSpec(name or fn.__name__, effect, doc, input_model, fn)
        fn.__tool_spec__ = spec  # type: ignore[attr-defined]
        return fn

    return decorate


def spec_of(fn: Callable[..., object]) -> ToolSpec:
    spec = getattr(fn, "__tool_spec__", None)
    if not isinstance(spec, ToolSpec):
        raise TypeError(f"{getattr(fn, '__name__', fn)!r} is not declared with @tool")
    return spec
