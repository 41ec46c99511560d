"""pods/log: stored container logs (one RFC 3339 timestamp per line) answered with the query
parameters of the real endpoint: container, previous, tailLines, sinceSeconds, sinceTime, timestamps,
limitBytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from evals.sandbox.kube.errors import bad_request, invalid
from evals.sandbox.kube.store import Obj

LogKey = tuple[str, str, str, bool]  # (namespace, pod, container, previous)


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _split(line: str) -> tuple[datetime | None, str, str]:
    """(parsed time, the timestamp as stored, the message)."""
    stamp, _, rest = line.partition(" ")
    when = _parse_time(stamp)
    return (when, stamp, rest) if when is not None else (None, "", line)


def _int_param(params: Mapping[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        value = int(params[name])
    except ValueError:
        raise bad_request(f"{name}: invalid value {params[name]!r}: must be an integer") from None
    if value < 0 or (name != "tailLines" and value == 0):
        raise invalid("PodLogOptions", "", f"{name}: Invalid value: {value}: must be greater than 0")
    return value


def choose_container(pod: Obj, requested: str | None) -> str:
    """The container the request is about, with the real server's errors for a missing or wrong one."""
    name = pod["metadata"]["name"]
    containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
    init = [c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []]
    if requested:
        if requested not in containers + init:
            raise bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    if len(containers) == 1:
        return str(containers[0])
    raise bad_request(
        f"a container name must be specified for pod {name}, choose one of: [{' '.join(map(str, containers))}]"
    )


def render_log(pod: Obj, logs: Mapping[LogKey, list[str]], params: Mapping[str, str]) -> str:
    """The body of GET pods/NAME/log for these query parameters."""
    container = choose_container(pod, params.get("container"))
    previous = params.get("previous", "false").lower() == "true"
    key = (pod["metadata"].get("namespace", ""), pod["metadata"]["name"], container, previous)
    if previous and key not in logs:
        raise bad_request(
            f'previous terminated container "{container}" in pod "{pod["metadata"]["name"]}" not found'
        )
    entries = [_split(line) for line in logs.get(key, [])]
    since_seconds, tail, limit = (_int_param(params, n) for n in ("sinceSeconds", "tailLines", "limitBytes"))
    stamps = [when for when, _, _ in entries if when is not None]
    cutoff: datetime | None = None
    if since_seconds is not None and stamps:
        cutoff = max(stamps) - timedelta(seconds=since_seconds)  # relative to the newest line
    elif "sinceTime" in params:
        cutoff = _parse_time(params["sinceTime"])
        if cutoff is None:
            raise bad_request(f"sinceTime: invalid value {params['sinceTime']!r}")
    if cutoff is not None:
        entries = [e for e in entries if e[0] is None or e[0] >= cutoff]
    if tail is not None:
        entries = entries[max(0, len(entries) - tail) :] if tail else []
    with_stamps = params.get("timestamps", "false").lower() == "true"
    lines = [f"{stamp} {text}" if with_stamps and stamp else text for _, stamp, text in entries]
    body = "".join(line + "\n" for line in lines)
    if limit is not None:
        body = body.encode()[:limit].decode(errors="ignore")
    return body
