"""What changed between two ReplicaSet revisions of a Deployment: image, env, resources, args."""

from __future__ import annotations

from tools.kube.models import ContainerSpec


def _dict_changes(kind: str, old: dict[str, str], new: dict[str, str]) -> list[str]:
    out = []
    for key in sorted(old.keys() | new.keys()):
        if key not in old:
            out.append(f"{kind} {key} added ({new[key]})")
        elif key not in new:
            out.append(f"{kind} {key} removed")
        elif old[key] != new[key]:
            out.append(f"{kind} {key}: {old[key]} → {new[key]}")
    return out


def template_changes(old: list[ContainerSpec], new: list[ContainerSpec]) -> list[str]:
    """Human-readable differences, container by container (env values are shown as the view holds them:
    references to secrets are never resolved)."""
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
        changes += [where + x for x in _dict_changes("env", prev.env, c.env)]
        changes += [where + x for x in _dict_changes("requests", prev.requests, c.requests)]
        changes += [where + x for x in _dict_changes("limits", prev.limits, c.limits)]
        if prev.args != c.args:
            changes.append(f"{where}args {' '.join(prev.args) or '[]'} → {' '.join(c.args) or '[]'}")
    changes += [f"container {name} removed" for name in before]
    return changes
