"""Decoding OTLP JSON (ExportTraceServiceRequest / TracesData) into normalized spans.

Shared by the OTLP file backend (the OpenTelemetry Collector file exporter writes one request per
line, ids in hex) and the Tempo client (`/api/traces/{id}` answers `{"batches": [...]}`, ids in
base64, older versions with `instrumentationLibrarySpans`). Enums may be integers (the OTLP JSON
spec) or names (protobuf's `MessageToDict` default); both are accepted.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping

from pydantic import JsonValue

from tools.traces.backend import AttributeValue, Span, SpanKind

_KINDS: dict[int, SpanKind] = {
    0: "unspecified",
    1: "internal",
    2: "server",
    3: "client",
    4: "producer",
    5: "consumer",
}
_STATUS_ERROR = 2
_HEX = frozenset("0123456789abcdefABCDEF")


class MalformedOtlp(ValueError):
    """The document is not OTLP JSON; the message says where."""


def normalize_id(raw: object, n_bytes: int) -> str:
    """Lowercase hex of a trace (16 bytes) or span (8 bytes) id given as hex or base64.

    Padded base64 (what protobuf JSON writes) always contains '=' for 8- and 16-byte ids, so it is
    never mistaken for hex."""
    if not isinstance(raw, str) or not raw:
        raise MalformedOtlp(f"id {raw!r} is not a non-empty string")
    if len(raw) <= 2 * n_bytes and all(c in _HEX for c in raw):
        return raw.lower().zfill(2 * n_bytes)  # Jaeger and Tempo drop leading zeros
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedOtlp(f"id {raw!r} is neither hex nor base64") from exc
    if len(decoded) != n_bytes:
        raise MalformedOtlp(f"id {raw!r} decodes to {len(decoded)} bytes, expected {n_bytes}")
    return decoded.hex()


def any_value(value: object) -> AttributeValue:
    """An OTLP AnyValue as a plain scalar (arrays and maps become compact JSON text)."""
    if not isinstance(value, Mapping) or not value:
        return ""
    key, inner = next(iter(value.items()))
    if key == "stringValue":
        return str(inner)
    if key == "boolValue":
        return bool(inner)
    if key == "intValue":
        return int(inner)  # int64 arrives as a JSON string
    if key == "doubleValue":
        return float(inner)
    if key == "arrayValue":
        items = inner.get("values", []) if isinstance(inner, Mapping) else []
        return json.dumps([any_value(v) for v in items])
    if key == "kvlistValue":
        items = inner.get("values", []) if isinstance(inner, Mapping) else []
        return json.dumps(attributes(items))
    return str(inner)


def attributes(raw: object) -> dict[str, AttributeValue]:
    if not isinstance(raw, list):
        return {}
    return {
        str(kv["key"]): any_value(kv.get("value")) for kv in raw if isinstance(kv, Mapping) and "key" in kv
    }


def _kind(raw: object) -> SpanKind:
    if isinstance(raw, int):
        return _KINDS.get(raw, "unspecified")
    if isinstance(raw, str):
        name = raw.removeprefix("SPAN_KIND_").lower()
        return next((k for k in _KINDS.values() if k == name), "unspecified")
    return "unspecified"


def _is_error(status: object) -> bool:
    if not isinstance(status, Mapping):
        return False
    code = status.get("code")
    return code == _STATUS_ERROR or code == "STATUS_CODE_ERROR"


def _list(parent: Mapping[str, object], *keys: str) -> list[Mapping[str, object]]:
    for key in keys:
        value = parent.get(key)
        if isinstance(value, list):
            return [v for v in value if isinstance(v, Mapping)]
    return []


def decode_request(doc: Mapping[str, JsonValue] | Mapping[str, object]) -> Iterator[Span]:
    """Spans of one ExportTraceServiceRequest (`resourceSpans`) or Tempo answer (`batches`)."""
    for resource_spans in _list(doc, "resourceSpans", "batches"):
        resource = resource_spans.get("resource")
        res_attrs = attributes(resource.get("attributes")) if isinstance(resource, Mapping) else {}
        service = str(res_attrs.get("service.name", "unknown_service"))
        for scope_spans in _list(resource_spans, "scopeSpans", "instrumentationLibrarySpans"):
            for raw in _list(scope_spans, "spans"):
                yield _span(raw, service)


def _span(raw: Mapping[str, object], service: str) -> Span:
    try:
        parent = raw.get("parentSpanId")
        return Span(
            trace_id=normalize_id(raw.get("traceId"), 16),
            span_id=normalize_id(raw.get("spanId"), 8),
            parent_span_id=normalize_id(parent, 8) if parent else None,
            service=service,
            name=str(raw.get("name", "")),
            kind=_kind(raw.get("kind")),
            start_ns=int(str(raw["startTimeUnixNano"])),
            end_ns=int(str(raw["endTimeUnixNano"])),
            error=_is_error(raw.get("status")),
            attributes=attributes(raw.get("attributes")),
        )
    except (KeyError, ValueError) as exc:
        raise MalformedOtlp(f"span {raw.get('spanId')!r}: {exc}") from exc
