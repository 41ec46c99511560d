"""The Kubernetes API emulator of the sandbox (DESIGN §3.7), built on kmock.

It serves a scenario world's objects and pod logs over real HTTP to the official `kubernetes` client
and to kubectl: discovery, list/get with label and field selectors, strategic-merge/merge/JSON patch,
PUT with resourceVersion conflicts, `dryRun=All` on every write, the scale and eviction subresources,
pods/log, and a synchronous Deployment controller (ReplicaSet revisions, rollback, pod replacement).
"""

from evals.sandbox.kube.kubeconfig import CONTEXT, write_kubeconfig
from evals.sandbox.kube.runner import RunningEmulator, build_emulator, run_in_thread, serve
from evals.sandbox.kube.state import KubeState, PodLogRecord, StateError, build_store, load_state_file

__all__ = [
    "CONTEXT",
    "KubeState",
    "PodLogRecord",
    "RunningEmulator",
    "StateError",
    "build_emulator",
    "build_store",
    "load_state_file",
    "run_in_thread",
    "serve",
    "write_kubeconfig",
]
