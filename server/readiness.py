"""What `/readyz` checks: the database (without it nothing works: not ready), and each configured
backend (reported with the setting to fix; a replica stays ready while Prometheus or the cluster API is
away, since alerts and approvals must still be taken in, and investigations then run degraded)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy import Engine, text

from tools.backends import kube_api_client
from tools.config import ToolsConfig

Check = Callable[[], str]  # "ok", or what is wrong


def database_check(engine: Engine) -> Check:
    def check() -> str:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            return f"unreachable ({type(exc).__name__}): check MEDIC_DATABASE_URL"
        return "ok"

    return check


def prometheus_check(url: str, timeout_s: float = 2.0) -> Check:
    def check() -> str:
        try:
            answer = httpx.get(f"{url.rstrip('/')}/-/ready", timeout=timeout_s)
        except httpx.HTTPError as exc:
            return f"unreachable ({type(exc).__name__}) at {url}: check MEDIC_PROMETHEUS_URL"
        return "ok" if answer.status_code == 200 else f"not ready (HTTP {answer.status_code}) at {url}"

    return check


def kubernetes_check(tools: ToolsConfig, timeout_s: float = 2.0) -> Check:
    def check() -> str:
        from kubernetes import client

        try:
            api = kube_api_client(tools)
        except Exception as exc:  # a kubeconfig that went away: say so, do not fail the probe
            return f"not configured ({exc})"
        if api is None:
            return "not configured"
        try:
            client.VersionApi(api).get_code(_request_timeout=timeout_s)
        except Exception as exc:
            return f"unreachable ({type(exc).__name__}): check MEDIC_KUBECONFIG (or KUBECONFIG)"
        finally:
            api.close()
        return "ok"

    return check


def backend_checks(tools: ToolsConfig) -> dict[str, Check]:
    checks: dict[str, Check] = {}
    if tools.prometheus_url:
        checks["prometheus"] = prometheus_check(tools.prometheus_url)
    if tools.kubeconfig is not None or tools.kube_in_cluster:
        checks["kubernetes"] = kubernetes_check(tools)
    return checks
