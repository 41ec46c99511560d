"""Small helpers that spell values the way the Kubernetes API does (timestamps, quantities, uids)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any


def timestamp(ms: int) -> str:
    """RFC 3339 with second precision, as in metadata.creationTimestamp."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def log_timestamp(ms: int) -> str:
    """RFC 3339 with nanoseconds, as `kubectl logs --timestamps` prints."""
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{(ms % 1000) * 1_000_000:09d}Z"


def uid(*parts: object) -> str:
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def cpu_quantity(cores: float) -> str:
    millis = round(cores * 1000)
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def short_hex(*parts: object, length: int = 16) -> str:
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:length]


def meta(name: str, namespace: str | None, created_ms: int, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "uid": uid(namespace, name, created_ms),
        "creationTimestamp": timestamp(created_ms),
    }
    if namespace is not None:
        meta["namespace"] = namespace
    meta["resourceVersion"] = str(1000 + created_ms // 1000 % 10_000_000)
    meta.update({k: v for k, v in extra.items() if v is not None})
    return meta
