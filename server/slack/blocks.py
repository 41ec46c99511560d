"""Block Kit builders that always fit Slack's limits: each cuts its text to the limit of its place.

Text from the world (alert annotations, log lines, chat) is escaped before it reaches mrkdwn, so it
can neither ping (`<!channel>`) nor forge a link or a mention; only the mentions medic writes itself
(`mention`) are left as Slack syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import JsonValue

from server.slack import limits

Block = dict[str, JsonValue]
ELLIPSIS = "…"


def cut(text: str, most: int) -> str:
    text = text.strip() or "—"
    return text if len(text) <= most else text[: most - 1].rstrip() + ELLIPSIS


def escape(text: str) -> str:
    """World text as mrkdwn that shows exactly that text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_SUBJECT = re.compile(r"\bslack:([UW][A-Z0-9]{2,30})\b")


def mention(user: str) -> str:
    return f"<@{user}>"


def people(text: str) -> str:
    """Escaped text in which medic's own subjects for Slack users (`slack:U…`) become mentions."""
    return _SLACK_SUBJECT.sub(lambda m: mention(m.group(1)), escape(text))


def code(lines: Iterable[str], most: int) -> str:
    """A code block of world text, cut so the fences survive."""
    body = cut("\n".join(escape(line) for line in lines), most - 8)
    return f"```\n{body}\n```"


def bullets(items: Iterable[str], most: int, empty: str = "none") -> str:
    """`• a` lines, as many as fit in `most` characters, then how many were left out."""
    items = list(items)
    out: list[str] = []
    used = 0
    for n, item in enumerate(items):
        line = f"• {item}"
        rest = len(items) - n
        if used + len(line) + 40 > most and rest > 0:
            out.append(f"… and {rest} more")
            break
        out.append(line)
        used += len(line) + 1
    return cut("\n".join(out), most) if out else empty


def plain(text: str, most: int = limits.TEXT_OBJECT) -> Block:
    return {"type": "plain_text", "text": cut(text, most), "emoji": True}


def mrkdwn(text: str, most: int = limits.TEXT_OBJECT) -> Block:
    return {"type": "mrkdwn", "text": cut(text, most)}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, limits.HEADER_TEXT)}


def section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text, limits.SECTION_TEXT)}
    if block_id:
        block["block_id"] = cut(block_id, limits.BLOCK_ID)
    return block


def fields(pairs: Iterable[tuple[str, str]]) -> Block:
    """A section of up to ten `*label*\\nvalue` fields."""
    out: list[JsonValue] = [
        mrkdwn(f"*{label}*\n{value}", limits.FIELD_TEXT)
        for label, value in list(pairs)[: limits.SECTION_FIELDS]
    ]
    return {"type": "section", "fields": out}


def context(*texts: str) -> Block:
    elements: list[JsonValue] = [mrkdwn(t) for t in texts[: limits.CONTEXT_ELEMENTS] if t.strip()]
    return {"type": "context", "elements": elements or [mrkdwn("—")]}


def divider() -> Block:
    return {"type": "divider"}


def confirm(title: str, text: str, yes: str, no: str = "Cancel") -> Block:
    return {
        "title": plain(title, limits.CONFIRM_TITLE),
        "text": mrkdwn(text, limits.CONFIRM_TEXT),
        "confirm": plain(yes, limits.CONFIRM_BUTTON),
        "deny": plain(no, limits.CONFIRM_BUTTON),
    }


def button(
    text: str, action_id: str, value: str, style: str | None = None, ask: Block | None = None
) -> Block:
    if len(value) > limits.BUTTON_VALUE:  # a value is data for us: never cut, refuse
        raise limits.BlockKitError(f"button value: {len(value)} characters, at most {limits.BUTTON_VALUE}")
    element: Block = {
        "type": "button",
        "text": plain(text, limits.BUTTON_TEXT),
        "action_id": cut(action_id, limits.ACTION_ID),
        "value": value,
    }
    if style:
        element["style"] = style
    if ask:
        element["confirm"] = ask
    return element


def actions(elements: list[Block], block_id: str | None = None) -> Block:
    block: Block = {"type": "actions", "elements": list(elements[: limits.ACTIONS_ELEMENTS])}
    if block_id:
        block["block_id"] = cut(block_id, limits.BLOCK_ID)
    return block


def fit(blocks: list[Block], most: int = limits.MESSAGE_BLOCKS) -> list[Block]:
    """At most `most` blocks: the last kept one says how many were left out."""
    if len(blocks) <= most:
        return blocks
    return [*blocks[: most - 1], context(f"… {len(blocks) - most + 1} more blocks not shown")]
