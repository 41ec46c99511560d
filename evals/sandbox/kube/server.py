"""The HTTP face of the emulator: kmock's `KubernetesScaffold` (discovery, /version, Status errors,
request parsing) with every resource URL routed to `KubeApi` instead of kmock's naive object store,
which writes on dry runs and knows no selectors, subresources or controllers.
"""

from __future__ import annotations

import json
import traceback
from typing import Any

import aiohttp.web
import attrs
from kmock import KubernetesError, KubernetesScaffold, Request, ResourceInfo, action, resource

from evals.sandbox.kube import errors
from evals.sandbox.kube.api import KubeApi
from evals.sandbox.kube.resources import (
    RESOURCE_TYPES,
    SUBRESOURCE_KINDS,
    SUBRESOURCE_VERBS,
    ResourceType,
    find_type,
    verbs_for,
)
from evals.sandbox.kube.tables import TABLE_ACCEPT, as_table

Body = dict[str, Any] | list[Any] | str


@attrs.define(kw_only=True)
class KubeEmulator(KubernetesScaffold):
    """kmock's Kubernetes scaffold serving the resources of `RESOURCE_TYPES` from a `KubeApi`."""

    api: KubeApi

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        # The API server answers /version/ as /version; the official client's VersionApi asks for it.
        self.fallback["get /version/"] << self._serve_server_version
        for rt in RESOURCE_TYPES:
            self.resources[resource(rt.group, rt.version, rt.plural)] = ResourceInfo(
                namespaced=rt.namespaced,
                kind=rt.kind,
                singular=rt.kind.lower(),
                verbs=set(verbs_for(rt)),
                shortnames=set(rt.short_names),
                subresources=set(rt.subresources),
            )

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        """Parse resource URLs ourselves: kmock's parser takes `/api/v1/namespaces[/NAME]` (the
        Namespace resource itself) for a namespace prefix and fails on it."""
        try:
            request = await _parse_resource_request(raw_request)
            if request is None:
                return await super().__call__(raw_request)
            return await self._handle(request)
        except Exception as exc:
            return await self._render_error(exc)

    async def _handle(self, request: Request) -> aiohttp.web.StreamResponse:
        if request.resource is None or request.resource.plural is None:
            return await super()._handle(request)  # discovery, /version, unknown paths
        try:
            status, body = self._route(request)
        except KubernetesError as exc:
            return await self._render_error(exc)
        if isinstance(body, str):
            return aiohttp.web.Response(text=body, status=status, content_type="text/plain")
        return aiohttp.web.json_response(body, status=status)

    async def _render_error(self, exc: Exception) -> aiohttp.web.StreamResponse:
        if not isinstance(exc, KubernetesError):
            traceback.print_exception(exc)
            return await super()._render_error(exc)
        status = {
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "status": "Failure",
            "code": exc.status,
        }
        status.update(reason=exc.reason, message=exc.message)
        if exc.details:
            status["details"] = exc.details
        return aiohttp.web.json_response(status, status=exc.status)

    async def _serve_version(self, request: Request) -> dict[str, Any]:
        """APIResourceList with the subresources' own kinds (Scale, Eviction), as kubectl expects."""
        assert request.resource is not None
        group, version = request.resource.group or "", request.resource.version
        types = [rt for rt in RESOURCE_TYPES if (rt.group, rt.version) == (group, version)]
        if not types:
            raise errors.no_such_resource()
        entries: list[dict[str, Any]] = []
        for rt in types:
            entries.append(
                {
                    "name": rt.plural,
                    "singularName": rt.kind.lower(),
                    "namespaced": rt.namespaced,
                    "kind": rt.kind,
                    "verbs": verbs_for(rt),
                    "shortNames": list(rt.short_names),
                }
            )
            for sub in rt.subresources:
                sub_group, sub_version, sub_kind = SUBRESOURCE_KINDS[sub]
                entry = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced}
                entry.update(kind=sub_kind or rt.kind, verbs=SUBRESOURCE_VERBS[sub])
                if sub_group:
                    entry.update(group=sub_group, version=sub_version)
                entries.append(entry)
        gv = f"{group}/{version}" if group else version
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": entries}

    def _route(self, request: Request) -> tuple[int, Body]:
        assert request.resource is not None
        rt = find_type(
            request.resource.group or "", request.resource.version or "", request.resource.plural or ""
        )
        if rt is None or (request.namespace is not None and not rt.namespaced):
            raise errors.no_such_resource()
        if request.name is not None and rt.namespaced and request.namespace is None:
            raise errors.no_such_resource()
        method = str(request.method.value if hasattr(request.method, "value") else request.method).upper()
        body = _json_body(request)
        if rt.read_only and method != "GET":
            raise errors.method_not_allowed(
                f"{rt.plural}.{rt.group} are read-only here: write core/v1 Events"
            )
        if request.action == action.WATCH:
            raise errors.method_not_allowed("watch is not supported by the medic sandbox emulator")
        ns, name, sub, params = request.namespace, request.name, request.subresource, request.params
        content_type = request.headers.get("Content-Type", "application/json")
        if sub is not None:
            return self._route_subresource(rt, method, ns, name or "", sub, body, content_type, params)
        if name is None:
            if method == "GET":
                listing = self.api.list(rt, ns, params)
                return 200, as_table(rt, listing["items"], listing) if _wants_table(request) else listing
            if method == "POST":
                return 201, self.api.create(rt, ns, _object(body), params)
            if method == "DELETE":
                return 200, self.api.delete_collection(rt, ns, params)
        else:
            if method == "GET":
                obj = self.api.get(rt, ns, name)
                return 200, as_table(rt, [obj], None) if _wants_table(request) else obj
            if method == "PUT":
                return 200, self.api.replace(rt, ns, name, _object(body), params)
            if method == "PATCH":
                return 200, self.api.patch(rt, ns, name, body, content_type, params)
            if method == "DELETE":
                return 200, self.api.delete(rt, ns, name, body if isinstance(body, dict) else None, params)
        raise errors.method_not_allowed(
            f"the server does not allow this method on the requested resource: {method}"
        )

    def _route_subresource(
        self,
        rt: ResourceType,
        method: str,
        ns: str | None,
        name: str,
        sub: str,
        body: object,
        content_type: str,
        params: Any,
    ) -> tuple[int, Body]:
        if sub not in rt.subresources:
            raise errors.no_such_resource()
        if sub == "log" and method == "GET":
            return 200, self.api.log(rt, ns, name, params)
        if sub == "eviction" and method == "POST":
            return 201, self.api.evict(rt, ns, name, body if isinstance(body, dict) else None, params)
        if sub == "scale":
            if method == "GET":
                return 200, self.api.get_scale(rt, ns, name)
            if method in ("PUT", "PATCH"):
                patch_type = content_type if method == "PATCH" else None
                return 200, self.api.update_scale(rt, ns, name, body, patch_type, params)
        if sub == "status":
            if method == "GET":
                return 200, self.api.get(rt, ns, name)
            if method == "PUT":
                return 200, self.api.replace(rt, ns, name, _object(body), params, sub="status")
            if method == "PATCH":
                return 200, self.api.patch(rt, ns, name, body, content_type, params, sub="status")
        raise errors.method_not_allowed(
            f"the server does not allow this method on the requested resource: {method}"
        )


def _split_resource_path(path: str) -> tuple[str, str, str | None, str, str | None, str | None] | None:
    """(group, version, namespace, plural, name, subresource) of a resource URL, None otherwise."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and not (len(rest) == 3 and rest[2] in ("status", "finalize"))
    ):
        namespace, rest = rest[1], rest[2:]
    plural, name = rest[0], rest[1] if len(rest) > 1 else None
    subresource = "/".join(rest[2:]) or None
    return group, version, namespace, plural, name, subresource


async def _parse_resource_request(raw: aiohttp.web.BaseRequest) -> Request | None:
    parsed = _split_resource_path(raw.path)
    if parsed is None:
        return None
    group, version, namespace, plural, name, subresource = parsed
    body = await raw.read()
    is_watch = raw.method == "GET" and raw.query.get("watch") in ("true", "1")
    return Request(
        method=raw.method,
        url=raw.url,
        params=dict(raw.query),
        headers=dict(raw.headers),
        body=body,
        text=body.decode(errors="replace"),
        action=action.WATCH if is_watch else None,
        resource=resource(group, version, plural),
        namespace=namespace,
        name=name,
        subresource=subresource,
        raw_request=raw,
    )


def _wants_table(request: Request) -> bool:
    return TABLE_ACCEPT in request.headers.get("Accept", "")


def _json_body(request: Request) -> object:
    if not request.body:
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        raise errors.bad_request("the body of the request is not valid JSON") from None


def _object(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise errors.bad_request("the body of the request must be a JSON object")
    return body
