"""Log templates: lines of one logging statement grouped under one id, with their level.

Lines are masked first (timestamps, uuids, IPs, hex ids, durations, numbers become `<TS>`, `<UUID>`, ...)
so that lines of one statement differ only where Drain can see it; the masked line is cut to its first
tokens (a statement is told by its start; payload dumps of any length then share one template) and
mined with Drain3, configured here in code, in memory: no config file, no persistence, no network.
Masking works token by token with a cache (most tokens are words that repeat), and each distinct
masked line is mined once: a day of Train Ticket logs (172,675 lines, about 600 distinct masked lines)
is mined at 10,000-20,000 lines/s on a busy two-core machine. Mining is per entity: one service's statements never merge with
another's, and a template id is stable for the life of the miner.

A multi-line record (a Java stack trace's `\\tat ...` frames, `Caused by:`, a Python traceback) is one
event: `fold_records` joins continuation lines to the line that opened the record, so a stack trace
counts once, at the level of its exception line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from drain3.drain import Drain

from tools.redact import redact

Level = Literal["error", "warn", "info"]
_SEVERITY: dict[Level, int] = {"info": 0, "warn": 1, "error": 2}

MAX_TOKENS = 20  # masked tokens kept: a statement is told by its start, the rest of a long line is payload
MAX_TOKEN_CHARS = 200  # a longer token (a JSON blob without spaces) is cut before masking
DETAIL_CHARS = 160  # a template as a person reads it in the ranking's evidence
SAME_EVENT_S = 1.0  # lines of one multi-line record are written together
TOKEN_CACHE_SIZE = 200_000  # distinct tokens remembered by a miner (ids fill it; words hit it)

# One pass per token; at each position the first alternative that matches wins (a timestamp before
# its numbers, a uuid before its hex runs, an IP before its numbers).
_MASK_PARTS = (
    (
        "TS",
        r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?|\b\d\d:\d\d:\d\d(?:[.,]\d+)?\b",
    ),
    ("UUID", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    ("IP", r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b"),
    # ids: 8+ hex characters with a digit (trace and span ids, hashes, long numbers), or 0x...
    ("HEX", r"\b(?:0x[0-9a-fA-F]+|(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,})\b"),
    ("DUR", r"\b\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|min)\b"),
    # numbers, but not a code location glued to a name (`Impl#532`, `Foo.java:12` name the statement)
    (
        "NUM",
        r"(?<![\w.#])(?<!\.[a-z]:)(?<!\.[a-z]{2}:)(?<!\.[a-z]{3}:)(?<!\.[a-z]{4}:)(?<!\.[a-z]{5}:)"
        r"[-+]?\d+(?:\.\d+)?\b",
    ),
)
_MASK = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _MASK_PARTS))
_TAGS = {name: f"<{name}>" for name, _ in _MASK_PARTS}
_DIGIT = re.compile(r"\d")
_LEADING_TIMES = re.compile(r"^(?:<TS>\s*)+")
# An innermost [...] or {...} list of comma-separated items (stations=[a, b, c], a dump of ids): its
# length varies from line to line, and Drain only groups lines of equal token counts.
_LIST = re.compile(r"\[[^\[\]{}]*?, [^\[\]{}]*\]|\{[^\[\]{}]*?, [^\[\]{}]*\}")

# The level near the start of a line: the first level word in capitals (`ERROR`, `[WARN]`), a level key
# (`level=error`, `"level":"warn"`), nginx's `[error]`, klog's `E0129`; the first one found decides.
_HEAD_CHARS = 120
_LEVEL = re.compile(
    r"(?<![\w-])(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|CRIT|SEVERE|PANIC|ALERT|EMERG)"
    r"(?![\w-])"
    r"|(?i:\b(?:level|lvl|severity|loglevel)\"?\s*[=:]\s*\"?([a-z]+))"
    r"|\[(error|warn|crit|alert|emerg)\]"
)
_WORDS: dict[str, Level] = {
    **dict.fromkeys(("warn", "warning"), "warn"),
    **dict.fromkeys(
        ("error", "err", "fatal", "critical", "crit", "severe", "panic", "alert", "emerg"), "error"
    ),
}
_KLOG = re.compile(r"^([EFWI])\d{4} ")
_EXCEPTION = re.compile(
    r"^(?:Traceback \(most recent call last\)|Exception in thread |panic: |"
    r"(?:[a-z_][\w$]*\.)*[A-Z][\w$]*(?:Exception|Error)(?::|$))"
)
# Lines that continue the record before them: stack frames (`\tat ...`, Go's tab-indented frames),
# `Caused by:`, `... 12 more`, blank lines. Inside a Python traceback any indented line continues.
_CONTINUATION = re.compile(
    r"^(?:\t|\s+at\s|\s*\.\.\. \d+ (?:more|common frames omitted)|Caused by: |\s+Suppressed: |\s*$)"
)
_INDENTED = re.compile(r"^\s")


def mask_token(token: str) -> str:
    """One whitespace-separated token with its variable parts replaced by a type tag."""
    if not _DIGIT.search(token):
        return token  # every mask needs a digit
    return _MASK.sub(lambda m: _TAGS[str(m.lastgroup)], token[:MAX_TOKEN_CHARS])


def mask(message: str, token_masker: Callable[[str], str] = mask_token) -> str:
    """The line's shape: variable parts replaced by a type tag, lists of any length by `[<LIST>]`,
    cut to the tokens that tell the statement apart; a leading timestamp (the application's own) is
    dropped."""
    head = " ".join(message.split(None, MAX_TOKENS + 4)[: MAX_TOKENS + 4])
    if ", " in head:
        head = _LIST.sub(lambda m: "[<LIST>]" if m.group().startswith("[") else "{<LIST>}", head)
    raw = head.split()
    tokens = _LEADING_TIMES.sub("", " ".join(token_masker(t) for t in raw)).split()
    if len(tokens) > MAX_TOKENS:
        tokens = [*tokens[:MAX_TOKENS], "…"]
    return " ".join(tokens)


def line_level(message: str) -> Level:
    """error for ERROR/FATAL/CRITICAL/panic lines and exceptions, warn for WARN, else info."""
    head = message.lstrip()[:_HEAD_CHARS]
    klog = _KLOG.match(head)
    if klog:
        return {"E": "error", "F": "error", "W": "warn"}.get(klog.group(1), "info")  # type: ignore[return-value]
    found = _LEVEL.search(head)
    if found:
        word = next(g for g in found.groups() if g)
        return _WORDS.get(word.lower(), "info")
    return "error" if _EXCEPTION.match(head) else "info"


@dataclass(frozen=True)
class LogRecord:
    """One event: a line with the continuation lines (stack frames) it opened folded into it."""

    entity: str
    time: float
    message: str
    level: Level


def fold_records(lines: Iterable[tuple[str, float, str]]) -> Iterator[LogRecord]:
    """Records from lines in time order per entity: a stack frame, `Caused by:`, a blank line or the
    header of the exception an error line logged belongs to the record before it (of the same entity),
    and a Python traceback counts once, as its exception line (the first unindented line after the
    frames), dated at the traceback's header."""
    open_record: dict[str, LogRecord] = {}
    in_traceback: set[str] = set()
    for entity, time, raw in lines:
        message = raw.rstrip("\n")
        first = open_record.get(entity)
        if first is not None:
            if entity in in_traceback:
                if _INDENTED.match(message) or not message.strip():
                    continue
                in_traceback.discard(entity)
                open_record[entity] = LogRecord(entity, first.time, message, "error")
                continue
            if _CONTINUATION.match(message) or _is_thrown_by(first, time, message):
                continue
            yield first
        if message.startswith("Traceback (most recent call last)"):
            in_traceback.add(entity)
        open_record[entity] = LogRecord(entity, time, message, line_level(message))
    yield from open_record.values()


def _is_thrown_by(record: LogRecord, time: float, message: str) -> bool:
    """An exception's header printed right under the error line that logged it (logback, log4j: the
    message, then `java.lang.X: ...`, then the frames) is that error's, not a second one."""
    return (
        record.level == "error"
        and time - record.time <= SAME_EVENT_S
        and not message.startswith("Traceback")
        and _EXCEPTION.match(message.lstrip()) is not None
    )


@dataclass(frozen=True)
class Template:
    """A mined template: `text` is Drain's template (masked, `<*>` where lines differ), redacted."""

    id: int
    entity: str
    text: str
    level: Level

    @property
    def detail(self) -> str:
        """The template as the ranking's evidence shows it: redacted and shortened."""
        return self.text if len(self.text) <= DETAIL_CHARS else self.text[: DETAIL_CHARS - 1] + "…"


class TemplateMiner:
    """Drain3 per entity over masked lines; `add` learns, ids never change within one miner.

    Depth 5 walks the first three tokens down Drain's prefix tree (typically the level, the logger
    with its code location, the first word), so lines of different statements rarely meet; within a
    leaf, lines join a template when half their tokens agree."""

    def __init__(self, similarity: float = 0.5, depth: int = 5, max_children: int = 100) -> None:
        self._similarity, self._depth, self._max_children = similarity, depth, max_children
        self._drains: dict[str, Drain] = {}
        self._ids: dict[tuple[str, str], int] = {}  # (entity, masked line) -> template id
        self._owner: dict[int, tuple[str, int]] = {}  # template id -> (entity, Drain cluster id)
        self._by_owner: dict[tuple[str, int], int] = {}
        self._levels: dict[int, Level] = {}
        self._tokens: dict[str, str] = {}  # token -> masked token: most tokens repeat (words, keys)

    def add(self, entity: str, message: str, level: Level | None = None) -> int:
        """The id of the template of `message` (learning it when new)."""
        shape = mask(message, self._mask_token)
        key = (entity, shape)
        found = self._ids.get(key)
        if found is None:
            drain = self._drains.get(entity)
            if drain is None:
                drain = self._drains[entity] = Drain(
                    depth=self._depth,
                    sim_th=self._similarity,
                    max_children=self._max_children,
                    parametrize_numeric_tokens=False,  # numbers are masked already; code locations stay
                )
            cluster, _ = drain.add_log_message(shape)
            found = self._template_id(entity, int(cluster.cluster_id))
            self._ids[key] = found
        lvl = level or line_level(message)
        if _SEVERITY[lvl] >= _SEVERITY[self._levels.get(found, "info")]:
            self._levels[found] = lvl  # a template is as severe as its most severe line
        return found

    def _mask_token(self, token: str) -> str:
        masked = self._tokens.get(token)
        if masked is None:
            masked = mask_token(token)
            if len(self._tokens) < TOKEN_CACHE_SIZE:
                self._tokens[token] = masked
        return masked

    def _template_id(self, entity: str, cluster_id: int) -> int:
        owner = (entity, cluster_id)
        tid = self._by_owner.get(owner)
        if tid is None:
            tid = self._by_owner[owner] = len(self._owner) + 1
            self._owner[tid] = owner
        return tid

    def template(self, template_id: int) -> Template:
        entity, cluster_id = self._owner[template_id]
        cluster = self._drains[entity].id_to_cluster[cluster_id]
        return Template(
            id=template_id,
            entity=entity,
            text=redact(cluster.get_template()),
            level=self._levels.get(template_id, "info"),
        )

    def templates(self) -> list[Template]:
        return [self.template(tid) for tid in self._owner]

    @property
    def distinct_lines(self) -> int:
        """How many distinct masked lines were mined (the cost of mining, not of reading)."""
        return len(self._ids)
