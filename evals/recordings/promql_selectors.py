"""What a PromQL expression reads: its vector selectors and how far back before its evaluation time.

A recording keeps the raw samples of every series a tool's query selected, so a replay's PromQL gives
the same answers. That needs the selectors (`name{matchers}`, verbatim, so Prometheus itself applies
the matchers when the raw samples are fetched) and the reach of the query: its longest range or
subquery window plus its largest `offset`, plus the lookback Prometheus applies to an instant selector.

This is a tokenizer, not a full parser: it tells selectors apart from functions, aggregations,
keywords and the label lists of `by`/`without`/`on`/`ignoring`/`group_left`/`group_right`, which is all
a recording needs. A query it cannot read (an `@` modifier, unbalanced brackets) raises `PromQLError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LOOKBACK_S = 300.0  # Prometheus's default --query.lookback-delta: an instant selector reaches back 5m

AGGREGATIONS = frozenset(
    {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk"}
    | {"quantile", "limitk", "limit_ratio"}
)
_LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}) | _LABEL_LISTS
_TOKEN = re.compile(
    r"""
      (?P<space>\s+|\#[^\n]*)
    | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
    | (?P<duration>(?:[0-9]+(?:ms|s|m|h|d|w|y))+(?![A-Za-z0-9_]))
    | (?P<number>0[xX][0-9a-fA-F]+|(?:[0-9]*\.)?[0-9]+(?:[eE][+-]?[0-9]+)?)
    | (?P<ident>:?[A-Za-z_][A-Za-z0-9_:]*)
    | (?P<brace>\{(?:"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`|[^{}"'`])*\})
    | (?P<punct>==|!=|<=|>=|=~|!~|[-+*/%^<>()\[\]:,@=])
    """,
    re.VERBOSE,
)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"([0-9]+)(ms|s|m|h|d|w|y)")


class PromQLError(ValueError):
    """A query this module cannot read; the message quotes the query and the position."""


@dataclass(frozen=True)
class Selector:
    """An instant vector selector as written: `name` ('' for `{__name__=~"..."}`) and `{matchers}`."""

    name: str
    matchers: str  # '' or the braces and what is inside them, verbatim

    @property
    def text(self) -> str:
        return f"{self.name}{self.matchers}" if self.name or self.matchers else ""


@dataclass(frozen=True)
class Reads:
    selectors: tuple[Selector, ...]
    reach_s: float  # how far before the evaluation time the query reads samples


def duration_s(text: str) -> float:
    """A PromQL duration (`1h30m`, `500ms`) or a plain number of seconds, in seconds."""
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return float(text)
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise PromQLError(f"{text!r} is not a PromQL duration")
    return sum(int(n) * _UNITS[u] for n, u in parts)


def _tokens(promql: str) -> list[tuple[str, str, int]]:
    out, pos = [], 0
    while pos < len(promql):
        match = _TOKEN.match(promql, pos)
        if match is None:
            raise PromQLError(f"cannot read the query at position {pos}: {promql[pos : pos + 30]!r}")
        kind = match.lastgroup or ""
        if kind != "space":
            out.append((kind, match.group(), pos))
        pos = match.end()
    return out


def reads(promql: str) -> Reads:
    """The selectors `promql` reads and its reach (see the module docstring)."""
    tokens = _tokens(promql)
    selectors: list[Selector] = []
    ranges, offsets = [0.0], [0.0]
    i = 0
    while i < len(tokens):
        kind, text, pos = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else ("", "", len(promql))
        if kind == "punct" and text == "@":
            raise PromQLError(f"an @ modifier (position {pos}) is not supported in a recording: {promql!r}")
        if kind == "ident" and text.lower() in _LABEL_LISTS and following[1] == "(":
            i = _skip_label_list(tokens, i + 1, promql)
            continue
        if kind == "ident" and text.lower() == "offset":
            sign = -1.0 if following[1] == "-" else 1.0
            value = tokens[i + 2] if sign < 0 and i + 2 < len(tokens) else following
            offsets.append(sign * duration_s(value[1]))
            i += 3 if sign < 0 else 2
            continue
        if kind == "punct" and text == "[":
            if following[0] not in ("duration", "number"):
                raise PromQLError(f"expected a duration after '[' at position {pos}: {promql!r}")
            ranges.append(duration_s(following[1]))
        elif kind == "ident" and text.lower() not in _KEYWORDS:
            if following[1] == "(" or (text in AGGREGATIONS and following[1].lower() in ("by", "without")):
                pass  # a function or an aggregation, not a metric name
            elif following[0] == "brace":
                selectors.append(Selector(text, following[1]))
                i += 2
                continue
            else:
                selectors.append(Selector(text, ""))
        elif kind == "brace":
            selectors.append(Selector("", text))
        i += 1
    reach = max(ranges) + max(max(offsets), 0.0) + LOOKBACK_S
    return Reads(selectors=tuple(dict.fromkeys(selectors)), reach_s=reach)


def _skip_label_list(tokens: list[tuple[str, str, int]], at: int, promql: str) -> int:
    """The index after the `(a, b)` that starts at `at`."""
    for j in range(at, len(tokens)):
        if tokens[j][1] == ")":
            return j + 1
    raise PromQLError(f"unclosed label list at position {tokens[at][2]}: {promql!r}")


def label_matchers(selector: str) -> Selector:
    """A selector given on its own (a `match[]` of a series or label-values request)."""
    found = reads(selector).selectors
    if len(found) != 1:
        raise PromQLError(f"{selector!r} is not one series selector")
    return found[0]
