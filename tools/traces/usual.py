"""What requests usually look like: the patterns a fault-free reference shows, and which callees each
operation of a service always calls.

Fan-out is judged per operation, and only where it is regular: a service serving a different mix of
operations makes a different number of calls per request without anything being wrong, and an
operation that calls a callee only sometimes (depending on its data) changes its fan-out on its own.
An operation that always calls a callee and stops (an early return, an exception before the call)
is the fault this catches.

Log statements are judged the same way: an operation whose requests (those whose logs were read)
write a statement in at least `REGULAR_SHARE` of them always writes it; a request of it that did not
threw or returned before reaching it. An error or warning statement the operation never wrote is the
other way a request logs unusually (a caught exception, an early return that says why).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from tools.traces.requests import Pattern, Request

MIN_OPERATION_REQUESTS = 3  # an operation is judged regular from at least this many requests
REGULAR_SHARE = 0.9  # an operation calling a callee in at least this share of its requests always does


@dataclass
class Usual:
    """Per service: the patterns seen (bounded), and per operation the callees it always calls."""

    patterns: dict[str, set[Pattern]] = field(default_factory=dict)
    always_calls: dict[str, dict[str, frozenset[str]]] = field(
        default_factory=dict
    )  # service -> op -> callees
    always_writes: dict[str, dict[str, frozenset[int]]] = field(
        default_factory=dict
    )  # service -> op -> statements (template ids) in nearly all its requests; {} for none
    ever_writes: dict[str, dict[str, frozenset[int]]] = field(
        default_factory=dict
    )  # service -> op -> every statement its requests wrote (ops seen often enough to judge)

    @classmethod
    def of(
        cls, requests: Iterable[Request], max_patterns: int, logged: Iterable[Request] | None = None
    ) -> Usual:
        """What `requests` show; the statements from `logged` where given (default: the requests
        among `requests` whose logs were read)."""
        usual, requests = cls(), list(requests)
        kept = 0
        served: Counter[tuple[str, str]] = Counter()
        made: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        counted: Counter[tuple[str, str]] = Counter()  # requests whose statements are known
        wrote: dict[tuple[str, str], Counter[int]] = defaultdict(Counter)
        for r in requests:
            patterns = usual.patterns.setdefault(r.service, set())  # judged even past the bound
            if kept < max_patterns and r.pattern not in patterns:
                patterns.add(r.pattern)
                kept += 1
            op = r.pattern[0]
            served[r.service, op] += 1
            made[r.service, op].update(r.calls.keys())  # whether it called, not how often
        for r in requests if logged is None else logged:
            if r.wrote is not None:
                counted[r.service, r.pattern[0]] += 1
                wrote[r.service, r.pattern[0]].update(r.wrote)
        for (service, op), n in served.items():
            regular = frozenset(c for c, k in made[service, op].items() if k >= REGULAR_SHARE * n)
            if n >= MIN_OPERATION_REQUESTS and regular:
                usual.always_calls.setdefault(service, {})[op] = regular
        for (service, op), n in counted.items():
            if n >= MIN_OPERATION_REQUESTS:
                regular_ids = frozenset(t for t, k in wrote[service, op].items() if k >= REGULAR_SHARE * n)
                usual.always_writes.setdefault(service, {})[op] = regular_ids
                usual.ever_writes.setdefault(service, {})[op] = frozenset(wrote[service, op])
        return usual

    def is_new(self, request: Request) -> bool:
        return request.pattern not in self.patterns.get(request.service, set())


def describe_pattern(pattern: Pattern) -> str:
    """A request pattern as a person reads it (bounded length)."""
    op, local, remote = pattern
    text = f"{op} ({len(local)} local operations; calls: {', '.join(remote) or 'none'})"
    return text if len(text) <= 200 else text[:197] + "..."


def new_patterns(requests: Iterable[Request], usual: Usual, top: int) -> dict[str, list[tuple[str, int]]]:
    """Per service known to `usual`, its most frequent patterns among `requests` that `usual` lacks."""
    found: dict[str, Counter[Pattern]] = defaultdict(Counter)
    for r in requests:
        if r.service in usual.patterns and usual.is_new(r):
            found[r.service][r.pattern] += 1
    return {
        service: [(describe_pattern(p), n) for p, n in counts.most_common(top)]
        for service, counts in sorted(found.items())
    }
