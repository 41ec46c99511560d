"""The summary budget: cl100k_base from the shipped file, and truncation that says what it left out."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from tools.context import ToolContext
from tools.contract import ToolResult, tool
from tools.registry import Registry
from tools.summary import bounded_summary, cl100k_base, count_tokens, truncate_to_tokens


def test_the_shipped_encoding_is_cl100k_base() -> None:
    enc = cl100k_base()
    assert enc.encode("hello world") == [15339, 1917]
    assert enc.n_vocab == 100277
    assert enc.encode("<|endoftext|>", allowed_special="all") == [100257]


def test_bounded_summary_keeps_what_fits_and_counts_the_rest() -> None:
    lines = [f'http_requests_total{{pod="checkout-{i:04d}"}} = {i * 1.5}' for i in range(1000)]
    text, cut = bounded_summary("1000 series:", lines, max_tokens=400, unit="series", footer="hint: use topk")
    assert cut and count_tokens(text) <= 400
    shown = sum(1 for line in text.splitlines() if line.startswith("http_requests_total"))
    assert 5 < shown < 1000
    assert f"… {1000 - shown} more series not shown (1000 in all)" in text
    assert text.endswith("hint: use topk")
    small, small_cut = bounded_summary("2 series:", lines[:2], max_tokens=400)
    assert not small_cut and "not shown" not in small


def test_total_counts_items_the_caller_already_dropped() -> None:
    text, cut = bounded_summary("h", ["a", "b"], max_tokens=400, unit="series", total=300)
    assert cut and "… 298 more series not shown (300 in all)" in text


def test_truncate_to_tokens_marks_the_cut() -> None:
    text = "word " * 1000
    cut = truncate_to_tokens(text, 50)
    assert count_tokens(cut) <= 50 and cut.endswith("…[cut]")
    assert truncate_to_tokens("short", 50) == "short"


class _Nothing(BaseModel):
    pass


@tool(effect="read")
def _chatty(ctx: ToolContext, args: _Nothing) -> ToolResult:
    """A tool whose own bounding is broken."""
    return ToolResult(status="ok", summary="lots of words " * 500)


def test_the_registry_enforces_the_budget_for_every_tool() -> None:
    result = Registry([_chatty]).run("_chatty", {}, ToolContext(as_of=datetime(2025, 1, 1, tzinfo=UTC)))
    assert result.truncated and count_tokens(result.summary) <= 400
