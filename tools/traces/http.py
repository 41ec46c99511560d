"""The one way the Jaeger and Tempo clients talk HTTP: bounded by a timeout, errors mapped once.

httpx.TimeoutException          -> BackendTimeout (the backend did not answer in `timeout_s`)
other httpx.TransportError      -> BackendError   (refused, reset, DNS)
400                             -> BadQuery       (the backend's own message: the query is wrong)
404                             -> None           (the caller decides what "not found" means)
other non-2xx, non-JSON answer  -> BackendError
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from pydantic import JsonValue, TypeAdapter, ValidationError

from tools.errors import BackendError, BackendTimeout, BadQuery

_JSON = TypeAdapter(JsonValue)
Params = Mapping[str, str | int | float]


class JsonHttp:
    """GETs JSON from one backend. `transport` lets tests put httpx.MockTransport at the boundary."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        timeout_s: float,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.timeout_s = timeout_s
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout_s),
            headers={"Accept": "application/json", **(headers or {})},
            transport=transport,
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, params: Params | None = None) -> JsonValue | None:
        """The decoded JSON body, or None on 404."""
        where = f"{self.name} {path}"
        try:
            response = self._client.get(path, params=dict(params) if params else None)
        except httpx.TimeoutException as exc:
            raise BackendTimeout(f"{where}: no answer within {self.timeout_s:g}s") from exc
        except httpx.TransportError as exc:
            raise BackendError(f"{where}: {type(exc).__name__}: {exc or 'unreachable'}") from exc
        if response.status_code == 404:
            return None
        if response.status_code == 400:
            raise BadQuery(f"{where} refused the query: {_brief(response.text)}")
        if not response.is_success:
            raise BackendError(f"{where}: HTTP {response.status_code}: {_brief(response.text)}")
        try:
            return _JSON.validate_json(response.content)
        except ValidationError as exc:
            raise BackendError(f"{where}: answer is not JSON: {_brief(response.text)}") from exc


def _brief(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def as_object(value: JsonValue | None, where: str) -> dict[str, JsonValue]:
    """`value` as a JSON object, or BackendError naming the endpoint that answered nonsense."""
    if not isinstance(value, dict):
        raise BackendError(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def as_list(value: JsonValue | None) -> list[JsonValue]:
    return value if isinstance(value, list) else []
