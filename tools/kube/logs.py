"""Pod logs, current or previous container, tail and grep-like filter, with secrets redacted.

Lines are read with their Kubernetes timestamps so that lines written after as_of can be dropped: a
replay must not read the future, and a live investigation loses nothing (as_of is then now).
"""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tools.context import ToolContext
from tools.contract import Evidence, ToolResult, evidence_id, tool
from tools.errors import BadQuery, UnknownEntity
from tools.kube.tools import kube_reader
from tools.metrics.golden import closest_names
from tools.metrics.templates import NAME_PATTERN
from tools.redact import MASK, redact
from tools.summary import bounded_summary

MAX_GREP_CHARS = 200
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (.*)$")


class PodLogsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    namespace: str = Field(pattern=NAME_PATTERN)
    pod: str = Field(pattern=NAME_PATTERN)
    container: str | None = Field(None, pattern=NAME_PATTERN, description="needed when the pod has several")
    previous: bool = Field(False, description="the log of the previous (crashed) container instance")
    grep: str | None = Field(
        None, max_length=MAX_GREP_CHARS, description="case-insensitive regex; only matching lines"
    )
    tail_lines: int | None = Field(None, ge=1, description="read this many last lines (capped by config)")


def parse_timestamp(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _grep_pattern(grep: str | None) -> re.Pattern[str] | None:
    """The model-supplied filter, compiled; a retryable BadQuery when it is too long or not a regex."""
    if not grep:
        return None
    if len(grep) > MAX_GREP_CHARS:
        raise BadQuery(f"grep is {len(grep)} characters; at most {MAX_GREP_CHARS}")
    try:
        return re.compile(grep, re.IGNORECASE)
    except re.error as exc:
        raise BadQuery(f"grep is not a valid regex: {exc}") from exc


@tool(effect="read")
def pod_logs(ctx: ToolContext, args: PodLogsInput) -> ToolResult:
    """The last lines of a pod's log up to the investigation's instant (the previous container's with
    previous=true, e.g. after a crash), optionally only lines matching a regex. Secrets are redacted."""
    kube, cfg = kube_reader(ctx), ctx.config
    pattern = _grep_pattern(args.grep)
    tail = min(args.tail_lines or cfg.log_tail_lines, cfg.log_tail_lines)
    try:
        raw = kube.read_pod_log(args.namespace, args.pod, args.container, args.previous, tail)
    except UnknownEntity:
        pods = [p.name for p in kube.list_pods(args.namespace)]
        if args.pod in pods:  # the pod exists: it is the previous container (or the container) that does not
            raise UnknownEntity(
                f"pod {args.namespace}/{args.pod} has no {'previous ' if args.previous else ''}log"
                + (f" for container {args.container}" if args.container else ""),
                [args.pod],
            ) from None
        raise UnknownEntity(f"no pod {args.namespace}/{args.pod}", closest_names(args.pod, pods)) from None
    read, after, kept = 0, 0, []
    for line in raw.splitlines():
        read += 1
        match = _TIMESTAMP.match(line)
        when = parse_timestamp(match.group(1)) if match else None
        if when is not None and when > ctx.as_of:
            after += 1
            continue
        # The regex comes from a model: it only ever sees a bounded line, so a pathological pattern
        # cannot spend unbounded time on a huge one.
        if pattern and not pattern.search((match.group(2) if match else line)[: cfg.log_max_line_chars]):
            continue
        clean = redact(line)
        if len(clean) > cfg.log_max_line_chars:
            clean = clean[: cfg.log_max_line_chars] + " …[line cut]"
        kept.append(clean)
    matched = len(kept)
    kept = kept[-cfg.log_max_lines :]  # the newest lines matter most
    redactions = sum(line.count(MASK) for line in kept)
    which = f"{'previous ' if args.previous else ''}log of {args.namespace}/{args.pod}" + (
        f" ({args.container})" if args.container else ""
    )
    filt = f" matching /{args.grep}/" if args.grep else ""
    at = ctx.as_of.isoformat()
    evidence = [
        Evidence(
            id=evidence_id(
                "logs",
                "pod_logs",
                args.pod,
                args.namespace,
                args.container,
                args.previous,
                args.grep,
                tail,
                at,
            ),
            source="logs",
            description=f"{matched} lines{filt} in the last {read} lines of the {which} up to {at}"
            + (f"; e.g. {kept[-1][:200]}" if kept else ""),
            query=f"{which} tail={tail}{filt}",
        )
    ]
    notes = [f"{after} lines after as_of dropped"] if after else []
    if redactions:
        notes.append(f"{redactions} secrets redacted")
    if not kept:
        return ToolResult(
            status="no_data",
            summary=f"no lines{filt} in the last {read} lines of the {which} up to {at}"
            + (f" ({'; '.join(notes)})" if notes else ""),
            evidence=evidence,
        )
    # the summary shows the newest lines, so bisect over the list reversed and put it back in order
    newest_first = list(reversed(kept))
    summary, cut = bounded_summary(
        f"{matched} lines{filt} of the {which} (of {read} read), newest first:",
        newest_first,
        max_tokens=cfg.summary_max_tokens,
        unit="older lines",
        total=matched,
        footer="; ".join(notes),
    )
    return ToolResult(
        status="ok",
        data={
            "lines": list(kept),
            "matched": matched,
            "read": read,
            "after_as_of": after,
            "redactions": redactions,
        },
        summary=summary,
        truncated=cut or matched > len(kept),
        evidence=evidence,
    )
