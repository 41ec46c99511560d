"""Nodes and their conditions: the read behind node faults (MemoryPressure, DiskPressure, NotReady)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tools.context import ToolContext
from tools.contract import ToolResult, tool
from tools.errors import UnknownEntity
from tools.kube.tools import kube_evidence, kube_reader
from tools.metrics.golden import closest_names
from tools.metrics.templates import NAME_PATTERN
from tools.summary import bounded_summary


class NodesInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, pattern=NAME_PATTERN, description="one node; omit for all")


HEALTHY_CONDITION = {
    "Ready": "True"
}  # every other condition (MemoryPressure, DiskPressure, ...) is healthy when False


@tool(effect="read")
def kube_nodes(ctx: ToolContext, args: NodesInput) -> ToolResult:
    """Nodes with their conditions (Ready, MemoryPressure, DiskPressure, PIDPressure, ...) and whether they
    are cordoned. Unhealthy nodes first."""
    kube = kube_reader(ctx)
    nodes = kube.list_nodes()
    if args.name:
        matching = [n for n in nodes if n.name == args.name]
        if not matching:
            raise UnknownEntity(
                f"no node named {args.name!r}", closest_names(args.name, [n.name for n in nodes])
            )
        nodes = matching
    rows, lines, evidence = [], [], []
    for n in sorted(nodes, key=lambda n: n.name):
        bad = [c for c in n.conditions if c.status != HEALTHY_CONDITION.get(c.type, "False")]
        text = (
            f"{n.name}: "
            + (
                "; ".join(
                    f"{c.type}={c.status} ({c.reason}: {c.message}) since {c.last_transition}" for c in bad
                )
                if bad
                else "healthy"
            )
            + (" [cordoned]" if n.unschedulable else "")
        )
        rows.append((bool(bad), n, text))
        if bad:
            evidence.append(kube_evidence("node", n.name, text, n.name, ctx.as_of))
    rows.sort(key=lambda r: not r[0])
    lines = [r[2] for r in rows]
    unhealthy = sum(1 for r in rows if r[0])
    evidence.insert(
        0,
        kube_evidence(
            "nodes", args.name or "all", f"{len(rows)} nodes, {unhealthy} unhealthy", args.name, ctx.as_of
        ),
    )
    summary, cut = bounded_summary(
        f"{len(rows)} nodes, {unhealthy} with a bad condition (current state):",
        lines,
        max_tokens=ctx.config.summary_max_tokens,
        unit="nodes",
    )
    return ToolResult(
        status="ok",
        data={"nodes": [r[1].model_dump(mode="json") for r in rows]},
        summary=summary,
        truncated=cut,
        evidence=evidence,
    )
