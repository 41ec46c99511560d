"""Errors the emulator answers with: real Kubernetes `Status` objects (kind Status, code, reason).

They subclass kmock's `KubernetesError`, whose renderer writes the Status body, so the official client
raises `ApiException` with the right status and kubectl prints the usual `Error from server (...)`.
"""

from __future__ import annotations

from typing import Any

from kmock import KubernetesError


def _status_error(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> KubernetesError:
    return KubernetesError(status=code, reason=reason, message=message, details=details or {})


def not_found(plural: str, name: str, group: str = "") -> KubernetesError:
    qualified = f"{plural}.{group}" if group else plural
    return _status_error(
        404, "NotFound", f'{qualified} "{name}" not found', {"name": name, "group": group, "kind": plural}
    )


def no_such_resource() -> KubernetesError:
    return _status_error(404, "NotFound", "the server could not find the requested resource")


def conflict(plural: str, name: str, group: str = "") -> KubernetesError:
    qualified = f"{plural}.{group}" if group else plural
    return _status_error(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        {"name": name, "group": group, "kind": plural},
    )


def already_exists(plural: str, name: str, group: str = "") -> KubernetesError:
    qualified = f"{plural}.{group}" if group else plural
    return _status_error(
        409, "AlreadyExists", f'{qualified} "{name}" already exists', {"name": name, "kind": plural}
    )


def bad_request(message: str) -> KubernetesError:
    return _status_error(400, "BadRequest", message)


def invalid(kind: str, name: str, message: str) -> KubernetesError:
    return _status_error(
        422, "Invalid", f'{kind} "{name}" is invalid: {message}', {"name": name, "kind": kind}
    )


def method_not_allowed(message: str) -> KubernetesError:
    return _status_error(405, "MethodNotAllowed", message)


def unsupported_media_type(content_type: str) -> KubernetesError:
    return _status_error(
        415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {content_type}"
    )
