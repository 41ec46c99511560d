"""Slack's documented Block Kit limits, and the check every payload passes before it is sent.

The builders (`server.slack.blocks`) cut text to fit; this module checks the assembled payload
independently, so a builder that forgot a limit fails here (and in tests), not as Slack's
`invalid_blocks` in the middle of an incident. Sources: Slack's Block Kit reference (blocks,
block elements, composition objects) and the chat.postMessage and views.publish references.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import JsonValue

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100  # App Home tabs and modals
MESSAGE_TEXT = 4000  # Slack truncates beyond 40,000; it recommends 4,000 for the top-level text
TEXT_OBJECT = 3000  # any text object, unless a tighter limit applies below
HEADER_TEXT = 150
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
BLOCK_ID = 255
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30
KNOWN_BLOCKS = {"header", "section", "context", "divider", "actions"}


class BlockKitError(ValueError):
    """A payload Slack would refuse; the message names the place and the limit."""


def fallback_text(text: str) -> str:
    """The notification text: never empty, cut to Slack's recommended length."""
    text = text.strip() or "medic"
    return text if len(text) <= MESSAGE_TEXT else text[: MESSAGE_TEXT - 1] + "…"


def check_message(blocks: Sequence[Mapping[str, JsonValue]]) -> None:
    _check_blocks(blocks, MESSAGE_BLOCKS, "message")


def check_view(view: Mapping[str, JsonValue]) -> None:
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        raise BlockKitError("view.blocks: must be a list")
    _check_blocks(blocks, VIEW_BLOCKS, "view")  # type: ignore[arg-type]


def _check_blocks(blocks: Sequence[Mapping[str, JsonValue]], most: int, where: str) -> None:
    if len(blocks) > most:
        raise BlockKitError(f"{where}: {len(blocks)} blocks, at most {most}")
    for n, block in enumerate(blocks):
        _check_block(block, f"{where}.blocks[{n}]")


def _length(value: JsonValue, most: int, where: str) -> None:
    if not isinstance(value, str) or not value:
        raise BlockKitError(f"{where}: must be a non-empty string")
    if len(value) > most:
        raise BlockKitError(f"{where}: {len(value)} characters, at most {most}")


def _text(obj: JsonValue, most: int, where: str, plain_only: bool = False) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        raise BlockKitError(f"{where}: must be a text object")
    if plain_only and obj["type"] != "plain_text":
        raise BlockKitError(f"{where}: must be plain_text")
    _length(obj.get("text"), min(most, TEXT_OBJECT), f"{where}.text")


def _check_block(block: Mapping[str, JsonValue], where: str) -> None:
    kind = block.get("type")
    if kind not in KNOWN_BLOCKS:
        raise BlockKitError(f"{where}: unknown block type {kind!r}")
    if "block_id" in block:
        _length(block["block_id"], BLOCK_ID, f"{where}.block_id")
    if kind == "header":
        _text(block.get("text"), HEADER_TEXT, f"{where}.text", plain_only=True)
    elif kind == "section":
        fields = block.get("fields")
        if "text" not in block and not fields:
            raise BlockKitError(f"{where}: a section needs text or fields")
        if "text" in block:
            _text(block["text"], SECTION_TEXT, f"{where}.text")
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > SECTION_FIELDS:
                raise BlockKitError(f"{where}.fields: at most {SECTION_FIELDS}")
            for i, field in enumerate(fields):
                _text(field, FIELD_TEXT, f"{where}.fields[{i}]")
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= CONTEXT_ELEMENTS:
            raise BlockKitError(f"{where}.elements: 1 to {CONTEXT_ELEMENTS}")
        for i, element in enumerate(elements):
            _text(element, TEXT_OBJECT, f"{where}.elements[{i}]")
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= ACTIONS_ELEMENTS:
            raise BlockKitError(f"{where}.elements: 1 to {ACTIONS_ELEMENTS}")
        for i, element in enumerate(elements):
            _check_button(element, f"{where}.elements[{i}]")


def _check_button(button: JsonValue, where: str) -> None:
    if not isinstance(button, dict) or button.get("type") != "button":
        raise BlockKitError(f"{where}: only buttons are used in actions")
    _text(button.get("text"), BUTTON_TEXT, f"{where}.text", plain_only=True)
    _length(button.get("action_id"), ACTION_ID, f"{where}.action_id")
    if "value" in button:
        _length(button["value"], BUTTON_VALUE, f"{where}.value")
    if button.get("style") not in (None, "primary", "danger"):
        raise BlockKitError(f"{where}.style: primary or danger")
    confirm = button.get("confirm")
    if confirm is not None:
        if not isinstance(confirm, dict):
            raise BlockKitError(f"{where}.confirm: must be a confirmation object")
        _text(confirm.get("title"), CONFIRM_TITLE, f"{where}.confirm.title", plain_only=True)
        _text(confirm.get("text"), CONFIRM_TEXT, f"{where}.confirm.text")
        _text(confirm.get("confirm"), CONFIRM_BUTTON, f"{where}.confirm.confirm", plain_only=True)
        _text(confirm.get("deny"), CONFIRM_BUTTON, f"{where}.confirm.deny", plain_only=True)
