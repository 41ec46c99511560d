"""What every fault of one Nezha day shares, read once: faults, metric tables, the entry service, and
what the fault-free stretch says about pods (nodes, containers) and calls."""

from __future__ import annotations

from dataclasses import dataclass, field

from evals.recordings.importers.common import DatasetError
from evals.recordings.importers.nezha_layout import (
    Day,
    Fault,
    Table,
    front_table,
    minute_files,
    pod_tables,
    read_faults,
    workload_of,
)
from evals.recordings.importers.nezha_metrics import limits
from evals.recordings.importers.nezha_spans import Seen, note_spans, read_logs


@dataclass
class DayData:
    day: Day
    namespace: str
    faults: list[Fault]
    pods: list[Table]
    front: Table | None
    entry: str  # the service owning most root spans (the front file's ServiceName without spans)
    seen: Seen = field(default_factory=Seen)  # from the fault-free stretch

    def services(self) -> set[str]:
        return {workload_of(t.label) for t in self.pods} | {self.entry} | {f.service for f in self.faults}

    def pod_objects(self, seen: Seen) -> list[dict[str, object]]:
        """Pods as the API would list them, from what the data says: name, node (logs), container
        (logs, else the workload's name) and its limits (implied by the metrics). Phase Running: each
        reported metrics all day. No labels and no owner: the data names no Deployment."""
        items: list[dict[str, object]] = []
        for table in self.pods:
            pod = table.label
            container: dict[str, object] = {"name": seen.containers.get(pod) or workload_of(pod)}
            implied = limits(table)
            if implied:
                shown = {"cpu": f"{round(implied['cpu'] * 1000)}m"} if "cpu" in implied else {}
                shown |= {"memory": f"{round(implied['memory'] / 2**20)}Mi"} if "memory" in implied else {}
                container["resources"] = {"limits": shown}
            spec: dict[str, object] = {"containers": [container]}
            if pod in seen.nodes:
                spec["nodeName"] = seen.nodes[pod]
            items.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": pod, "namespace": self.namespace},
                    "spec": spec,
                    "status": {"phase": "Running"},
                }
            )
        return items


def load_day(day: Day, namespace: str) -> DayData:
    faults = read_faults(day)
    pods = pod_tables(day)
    if not pods:
        raise DatasetError(f"{day.folder / 'metric'}: no <pod>_metric.csv files")
    front = front_table(day)
    seen = Seen()
    stretch = [day.construct] if day.construct else []
    if stretch:
        read_logs(minute_files(stretch, "log", day.date), lambda _: False, seen)
    traces = minute_files(stretch, "trace", day.date)
    if not traces:  # no fault-free stretch: the day's first minute of spans tells the entry
        traces = minute_files([day.folder], "trace", day.date)[:1]
    note_spans(traces, workload_of, seen)
    if seen.roots:
        entry = max(sorted(seen.roots), key=lambda s: seen.roots[s])
    elif front is not None:
        entry = front.label
    else:
        raise DatasetError(
            f"{day.folder}: no spans and no {'metric/front_service.csv'}: the entry cannot be told"
        )
    return DayData(day, namespace, faults, pods, front, entry, seen)
