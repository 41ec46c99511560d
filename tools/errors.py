"""The exception tree of `tools/`.

    ToolError                      base of everything a tool raises on purpose
    ├── RetryableToolError         the caller (planner or model) should fix its input and try again
    │   ├── BadQuery               e.g. invalid PromQL; carries the backend's own message
    │   └── UnknownEntity          e.g. a service that does not exist; carries the closest names
    └── BackendError               report it: the backend is down, slow or answered nonsense
        └── BackendTimeout         no answer within the configured timeout

    ConfigurationError (a ValueError, not a ToolError): a setting names something that is not there,
    found while opening the backends, before any tool runs

`run_tool` turns ToolErrors into a `ToolResult` with status `error` (or `no_data` for UnknownEntity), so
a planner never sees a traceback. Anything else escaping a tool is a bug and propagates. Messages about
an unreachable or missing backend name the setting that points at it (e.g. MEDIC_PROMETHEUS_URL), so
the person reading the report knows what to fix.
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


class ConfigurationError(ValueError):
    """A setting points at something that is not there (e.g. a kubeconfig file); the message names the
    setting and the value, in one line."""
