"""Opaque MCP pagination cursors: a position (an offset, or the id of the last item shown) a client
hands back unchanged. A cursor that is not one of ours is an invalid-params error, not a silent restart.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import TypeVar

from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

T = TypeVar("T")


def encode(position: int | str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"at": position}).encode()).decode()


def decode(cursor: str | None) -> int | str | None:
    """The position a cursor names; None for the first page."""
    if cursor is None:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor.encode()))["at"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise MCPError(
            INVALID_PARAMS, f"invalid cursor {cursor[:40]!r}: pass back a nextCursor unchanged"
        ) from None
    if not isinstance(position, int | str) or isinstance(position, bool):
        raise MCPError(INVALID_PARAMS, "invalid cursor: pass back a nextCursor unchanged")
    return position


def page(items: Sequence[T], cursor: str | None, size: int) -> tuple[list[T], str | None]:
    """One page of `items` from the cursor's offset, and the cursor of the next page (None: the last)."""
    start = decode(cursor) or 0
    if not isinstance(start, int) or not 0 <= start <= len(items):
        raise MCPError(INVALID_PARAMS, "invalid cursor: pass back a nextCursor unchanged")
    end = start + size
    return list(items[start:end]), encode(end) if end < len(items) else None
