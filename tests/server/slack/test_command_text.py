"""What `/medic …` says: subcommands, their argument, -n and --at, and errors that say how to write it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.slack.command_text import BadCommand, parse

NOW = datetime(2026, 3, 2, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "kind", "argument", "namespace", "at"),
    [
        ("", "help", "", None, None),
        ("  HELP ", "help", "", None, None),
        ("list", "list", "", None, None),
        ("list -n shop", "list", "", "shop", None),
        ("status", "status", "", None, None),
        ("status question-0a1b2c", "status", "question-0a1b2c", None, None),
        ("triage checkoutservice", "triage", "checkoutservice", None, None),
        ("triage FrontendHighErrorRate -n boutique", "triage", "FrontendHighErrorRate", "boutique", None),
        ("why is checkout slow?", "ask", "why is checkout slow?", None, None),
        ("why is checkout slow? -n shop", "ask", "why is checkout slow?", "shop", None),
        ("--namespace=shop why is it slow --at 2026-03-02T14:00:00Z", "ask", "why is it slow", "shop",
         datetime(2026, 3, 2, 14, tzinfo=UTC)),
        ("what's wrong with list rendering?", "ask", "what's wrong with list rendering?", None, None),
        ("help me, checkout is down", "ask", "help me, checkout is down", None, None),
        ("why? --at 2026-03-02T14:00:00", "ask", "why?", None, datetime(2026, 3, 2, 14, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_commands_parse(
    text: str, kind: str, argument: str, namespace: str | None, at: datetime | None
) -> None:
    command = parse(text, NOW)
    assert (command.kind, command.argument, command.namespace, command.at) == (kind, argument, namespace, at)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("why -n Shop_1", "is not a namespace name"),
        ("why -n <!channel>", "`&lt;!channel&gt;` is not a namespace name"),
        ("why --at yesterday", "is not a time like"),
        ("why --at 2026-03-03T14:00:00Z", "in the future"),
        ("triage", "name one service or alertname"),
        ("triage two words", "name one service or alertname"),
        ("status not an id!", "is not an incident id"),
        ("hi", "ask a question of 3 to 2,000 characters"),
    ],
)
def test_bad_commands_say_how_to_write_them(text: str, why: str) -> None:
    with pytest.raises(BadCommand, match=why.replace("?", r"\?")):
        parse(text, NOW)
