"""What changed between two ReplicaSet revisions of a Deployment: image, env, resources, args."""

from __future__ import annotations

from collections.abc import Callable

from tools.kube.models import ContainerSpec


def _dict_changes(
    kind: str, old: dict[str, str], new: dict[str, str], changed: Callable[[str], bool] | None = None
) -> list[str]:
    """`changed(key)`, when given, also reports keys whose shown (redacted) values are equal."""
    out = []
    for key in sorted(old.keys() | new.keys()):
        if key not in old:
            out.append(f"{kind} {key} added ({new[key]})")
        elif key not in new:
            out.append(f"{kind} {key} removed")
        elif old[key] != new[key] or (changed is not None and changed(key)):
            out.append(f"{kind} {key}: {old[key]} → {new[key]}")
    return out


def _env_changes(old: ContainerSpec, new: ContainerSpec) -> list[str]:
    """Env values are already redacted in the views; their digests tell whether a hidden part changed."""
    return _dict_changes(
        "env", old.env, new.env, lambda key: old.env_digests.get(key) != new.env_digests.get(key)
    )


def template_changes(old: list[ContainerSpec], new: list[ContainerSpec]) -> list[str]:
    """Human-readable differences, container by container (env values are shown as the view holds them:
    redacted, and references to secrets never resolved)."""
    before = {c.name: c for c in old}
    changes: list[str] = []
    for c in new:
        prev = before.pop(c.name, None)
        if prev is None:
            changes.append(f"container {c.name} added ({c.image})")
            continue
        where = f"{c.name}: " if len(new) > 1 else ""
        if prev.image != c.image:
            changes.append(f"{where}image {prev.image} → {c.image}")
        changes += [where + x for x in _env_changes(prev, c)]
        changes += [where + x for x in _dict_changes("requests", prev.requests, c.requests)]
        changes += [where + x for x in _dict_changes("limits", prev.limits, c.limits)]
        if prev.args != c.args:
            changes.append(f"{where}args {' '.join(prev.args) or '[]'} → {' '.join(c.args) or '[]'}")
    changes += [f"container {name} removed" for name in before]
    return changes
