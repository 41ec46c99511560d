"""A kubeconfig that points kubectl and the official client at the emulator."""

from __future__ import annotations

from pathlib import Path

import yaml

CONTEXT = "medic-sandbox"


def write_kubeconfig(url: str, path: Path, namespace: str = "default") -> Path:
    """Write a kubeconfig with one http cluster (TLS verification off, no credentials), context
    `medic-sandbox`, and return its path."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": url, "insecure-skip-tls-verify": True}}],
        "users": [{"name": CONTEXT, "user": {}}],
        "contexts": [
            {"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace}}
        ],
        "current-context": CONTEXT,
        "preferences": {},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path
