"""Live progress of an investigation on the terminal: each tool call as it finishes (rich)."""

from __future__ import annotations

import json

from rich.console import Console
from rich.markup import escape

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
                f"[dim]sandbox up: Prometheus {event['prometheus_url']}, Kubernetes {event['kubernetes_url']}[/]"
            )
        elif kind == "plan" and event.get("calls"):
            out(f"[bold]→ {escape(str(event.get('note', '')))}[/]")
        elif kind == "tool":
            colour = {"ok": "green", "no_data": "yellow"}.get(str(event["status"]), "red")
            args = json.dumps(event.get("args", {}), separators=(",", ":"))
            summary = escape(str(event.get("summary", "")))[:140]
            out(
                f"  [{colour}]{event['status']:>7}[/] {event['tool']}{escape(args)} "
                f"[dim]{event['elapsed_s']}s[/]  {summary}"
            )
        elif kind == "diagnosis":
            top = event.get("top")
            if isinstance(top, dict):
                out(
                    f"[bold]diagnosis:[/] {top.get('label')} {top.get('fault_kind')} on {top.get('entity')} "
                    f"(confidence {float(top.get('confidence', 0)):.2f})"
                )
            else:
                out("[bold]diagnosis:[/] " + ("healthy" if event.get("healthy") else "inconclusive"))
        elif kind == "proposal":
            action = event.get("action")
            if isinstance(action, dict):
                out(f"[bold]proposal:[/] {action['kind']} {action['target']}")
            else:
                out(
                    f"[bold]proposal:[/] none — {escape(str(event.get('escalation') or event.get('reason')))}"
                )
        elif kind == "approval_needed":
            out("[bold yellow]approval needed[/]")
