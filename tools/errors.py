"""The exception tree of `tools/`.

    ToolError                      base of everything a tool raises on purpose
    ├── RetryableToolError         the caller (planner or model) should fix its input and try again
    │   ├── BadQuery               e.g. invalid PromQL; carries the backend's own message
    │   └── UnknownEntity          e.g. a service that does not exist; carries the closest names
    └── BackendError               report it: the backend is down, slow or answered nonsense
        └── BackendTimeout         no answer within the configured timeout

`run_tool` turns these into a `ToolResult` with status `error` (or `no_data` for UnknownEntity), so a
planner never sees a traceback. Anything else escaping a tool is a bug and propagates.
"""

from __future__ import annotations


class ToolError(Exception):
    """Base of the errors tools raise on purpose."""

    retryable = False


class RetryableToolError(ToolError):
    """The input was wrong; the message says how to fix it."""

    retryable = True


class BadQuery(RetryableToolError):
    """The backend refused the query (e.g. a PromQL parse error); the message is the backend's."""


class UnknownEntity(RetryableToolError):
    """A service, pod, node or metric that does not exist; `closest` lists names that do."""

    def __init__(self, message: str, closest: list[str] | None = None) -> None:
        super().__init__(message)
        self.closest = closest or []


class BackendError(ToolError):
    """The backend failed (unreachable, 5xx, malformed answer): report it, do not retry blindly."""


class BackendTimeout(BackendError):
    """The backend did not answer within the configured timeout."""
