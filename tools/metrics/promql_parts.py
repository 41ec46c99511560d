"""Building blocks for the profiles' PromQL templates (`tools/metrics/conventions.py`).

Conventions name a service by different labels (`destination_workload`, `deployment`, `application`, a
Service name that a scrape may have renamed to `exported_service`, ...). The tools read one label,
`service`, so every per-service template here selects on the convention's label and every grouped
one hands the label back renamed to `service` (and the namespace to `namespace`).

The strings are `string.Template` text: `$service`, `$namespace`, `$window` stay placeholders, and
label_replace's own `$1` is written `$$1`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Fn = Callable[[str], str]  # wraps a series selector, e.g. in rate(...[$window])


def sel(metric: str, *matchers: str) -> str:
    """`metric{m1,m2}`; empty matchers are skipped."""
    return f"{metric}{{{','.join(m for m in matchers if m)}}}"


def rate(selector: str) -> str:
    return f"rate({selector}[$window])"


def recent(selector: str) -> str:
    """Series that reported within $lookback, not only at the instant (a service that went quiet counts)."""
    return f"last_over_time({selector}[$lookback])"


def same(selector: str) -> str:
    """Gauges are used as they are."""
    return selector


def rename(expr: str, to: str, source: str) -> str:
    """`expr` with label `source` copied to `to`."""
    return f'label_replace({expr}, "{to}", "$$1", "{source}", "(.*)")'


def ratio(bad: str, total: str) -> str:
    """`bad / total`, where no failing series means 0 (not "no data") for every group `total` has."""
    return f"({bad} or (0 * {total})) / {total}"


def quantile(buckets: str, by: str = "", scale: str = "") -> str:
    """histogram_quantile($quantile) of summed bucket rates; `scale` (e.g. " / 1000") turns ms into s."""
    group = f"{by}, le" if by else "le"
    return f"histogram_quantile($quantile, sum by ({group}) ({buckets})){scale}"


@dataclass(frozen=True)
class Arm:
    """One way a convention names a service: its label, and the label holding its namespace."""

    service: str
    namespace: str | None = "namespace"


@dataclass(frozen=True)
class Key:
    """How a convention names services: the first arm, else (where its label is absent) the next.

    `of` picks one service's series; `by_service` groups every series by service. With
    `namespace_optional`, a series without a namespace label belongs to every namespace (exporters
    outside Kubernetes' service discovery often have none)."""

    arms: tuple[Arm, ...]
    namespace_optional: bool = False

    def _matchers(self, i: int, service: str, namespace: bool) -> list[str]:
        arm = self.arms[i]
        out = [f'{earlier.service}=""' for earlier in self.arms[:i]]
        out.append(f'{arm.service}="{service}"' if service else f'{arm.service}!=""')
        if namespace and arm.namespace:
            out.append(f'{arm.namespace}=~"$namespace{"|" if self.namespace_optional else ""}"')
        return out

    def of(self, fn: Fn, metric: str, *matchers: str, namespace: bool = True) -> str:
        """`fn` over $service's series, one `or` branch per arm."""
        parts = [
            fn(sel(metric, *self._matchers(i, "$service", namespace), *matchers))
            for i in range(len(self.arms))
        ]
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"

    def by_service(
        self,
        agg: str,
        fn: Fn,
        metric: str,
        *matchers: str,
        by: str = "",
        namespace: bool = True,
        keep_namespace: bool = False,
    ) -> str:
        """`agg by (service[, namespace][, by])` of `fn` over every series, `service` from the key.

        Each arm is aggregated by its own labels, renamed, then the arms are aggregated together again
        (for `count` that second count only says the group exists)."""
        parts, renamed = [], False
        for i, arm in enumerate(self.arms):
            kept = [arm.namespace] if keep_namespace and arm.namespace else []
            labels = ", ".join([arm.service, *kept, *([by] if by else [])])
            selector = sel(metric, *self._matchers(i, "", namespace), *matchers)
            inner = f"{agg} by ({labels}) ({fn(selector)})"
            if arm.service != "service":
                inner, renamed = rename(inner, "service", arm.service), True
            if kept and arm.namespace != "namespace":
                inner, renamed = rename(inner, "namespace", kept[0]), True
            parts.append(inner)
        if len(parts) == 1 and not renamed:
            return parts[0]
        outer = ", ".join(["service", *(["namespace"] if keep_namespace else []), *([by] if by else [])])
        return f"{agg} by ({outer}) ({' or '.join(parts)})"
