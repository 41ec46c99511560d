"""The object store: every object once, keyed by kind, namespace and name, with one global
resourceVersion counter, as etcd gives a real API server.

Writes go through a `Store.clone()` first: the API layer applies a write and its controller side
effects to the clone and swaps it in only when the request is not a dry run, so `dryRun=All` can
never leak a change.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]
ObjKey = tuple[str, str, str]  # (kind, namespace or "", name)

_UID_NAMESPACE = uuid.UUID("6f1c1c52-3f0e-4a53-9d8a-5f7c2b1e0a11")
# The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alike digits).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_of(obj: Obj) -> ObjKey:
    meta = obj.get("metadata", {})
    return (str(obj["kind"]), str(meta.get("namespace") or ""), str(meta["name"]))


class Store:
    def __init__(self, clock: Callable[[], str] = utc_now) -> None:
        self.objects: dict[ObjKey, Obj] = {}
        self.revision = 0
        self.clock = clock
        self._serial = 0  # feeds deterministic names and uids

    def clone(self) -> Store:
        twin = Store(self.clock)
        twin.objects = copy.deepcopy(self.objects)
        twin.revision = self.revision
        twin._serial = self._serial
        return twin

    def adopt(self, other: Store) -> None:
        """Take over the state of a clone whose writes are to be committed."""
        self.objects, self.revision, self._serial = other.objects, other.revision, other._serial

    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        obj = self.objects.get((kind, namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def list(self, kind: str, namespace: str | None = None) -> list[Obj]:
        keys = sorted(k for k in self.objects if k[0] == kind and (namespace is None or k[1] == namespace))
        return [copy.deepcopy(self.objects[k]) for k in keys]

    def put(self, obj: Obj) -> Obj:
        """Store (create or replace) an object, stamping it with the next resourceVersion."""
        self.revision += 1
        stored = copy.deepcopy(obj)
        stored.setdefault("metadata", {})["resourceVersion"] = str(self.revision)
        self.objects[key_of(stored)] = stored
        return copy.deepcopy(stored)

    def remove(self, kind: str, namespace: str, name: str) -> Obj | None:
        obj = self.objects.pop((kind, namespace, name), None)
        if obj is not None:
            self.revision += 1
        return obj

    def fresh_token(self, seed: str) -> str:
        """A deterministic 5-character name suffix, unique within this store's history."""
        self._serial += 1
        digest = hashlib.sha256(f"{seed}/{self._serial}".encode()).digest()
        return "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:5])

    def stamp_new(self, obj: Obj) -> Obj:
        """Fill the server-owned metadata of an object being created (uid, creationTimestamp, generation)."""
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + self.fresh_token(meta["generateName"])
        if not meta.get("uid"):
            self._serial += 1
            seed = f"{obj.get('kind')}/{meta.get('namespace', '')}/{meta.get('name')}/{self._serial}"
            meta["uid"] = str(uuid.uuid5(_UID_NAMESPACE, seed))
        meta.setdefault("creationTimestamp", self.clock())
        if "spec" in obj:
            meta.setdefault("generation", 1)
        return obj


def template_hash(template: Obj) -> str:
    """A pod-template-hash in the style of the Deployment controller: stable for equal templates."""
    text = repr(sorted(_flatten(template)))
    digest = hashlib.sha256(text.encode()).digest()
    return "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:10])


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _flatten(v, f"{prefix}.{k}")]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in _flatten(v, f"{prefix}[{i}]")]
    return [(prefix, repr(value))]
