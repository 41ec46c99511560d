"""Live progress of an investigation on the terminal: each tool call as it finishes (rich)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:  # the agent module pulls in the graph library; `--help` must not
    from agent.assemble import Event


class Progress:
    """Prints agent events as they arrive; silent when `quiet` (e.g. --json output)."""

    def __init__(self, console: Console, quiet: bool = False) -> None:
        self.console, self.quiet = console, quiet

    def __call__(self, event: Event) -> None:
        if self.quiet:
            return
        kind = event.get("event")
        out = self.console.print
        if kind == "sandbox":
            out(
                f"[dim]sandbox up: Prometheus {e(event['prometheus_url'])}, Kubernetes {e(event['kubernetes_url'])}[/]"
            )
        elif kind == "plan" and event.get("calls"):
            out(f"[bold]→ {e(event.get('note', ''))}[/]")
        elif kind == "tool":
            colour = {"ok": "green", "no_data": "yellow"}.get(str(event["status"]), "red")
            args = json.dumps(event.get("args", {}), separators=(",", ":"))
            summary = e(str(event.get("summary", ""))[:140])
            out(
                f"  [{colour}]{e(event['status']):>7}[/] {e(event['tool'])}{e(args)} [dim]{e(event['elapsed_s'])}s[/]  {summary}"
            )
        elif kind == "diagnosis":
            top = event.get("top")
            if isinstance(top, dict):
                out(
                    f"[bold]diagnosis:[/] {e(top.get('label'))} {e(top.get('fault_kind'))} on {e(top.get('entity'))} "
                    f"(confidence {e(top.get('confidence'))})"
                )
            else:
                out("[bold]diagnosis:[/] " + ("healthy" if event.get("healthy") else "inconclusive"))
        elif kind == "proposal":
            action = event.get("action")
            if isinstance(action, dict):
                out(f"[bold]proposal:[/] {e(action['kind'])} {e(action['target'])}")
            else:
                out(f"[bold]proposal:[/] none — {e(event.get('escalation') or event.get('reason'))}")
        elif kind == "approval_needed":
            out("[bold yellow]approval needed[/]")
        elif kind == "already_investigated":  # a re-delivered alert resumes its thread, on purpose
            out(
                f"[yellow]incident {e(event.get('incident'))} was investigated already; showing that "
                "investigation[/] (medic investigate --fresh starts over)"
            )


def e(value: object) -> str:
    """World and model text is data, never markup: `[/]` in an entity name must print, not crash."""
    return escape(str(value))
