"""Which methods a path answers, settled before routing and before authentication.

FastAPI tries routes in order and takes the first whose template matches, so `GET
/exports/verify` reached `GET /exports/{export_id}` and failed there as a bad id (422), and a
method no route of the path serves got 405 with an `Allow` naming only the first route's
methods (`OPTIONS /incidents`: `Allow: POST`, though GET works). Here:

- of the templates that match a path, the one with a fixed segment where the others have a
  `{parameter}` (the leftmost such difference) owns it: `/exports/verify` is never the export
  "verify", `/exports/schedules/verify` never the export "schedules";
- a method the owner does not serve is 405, `Allow` listing every method it does;
- OPTIONS is 204 with that `Allow`, and needs no token: it says nothing the public OpenAPI
  document does not. (No CORS: the gateway serves no browser origin.)

A path no template matches goes on to the router (404, or its trailing-slash redirect). A
refused method is about the URL, not the caller, so like 404 it comes before 401 and 403."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi.routing import iter_route_contexts
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import error_response


@dataclass(frozen=True)
class Template:
    regex: re.Pattern[str]
    fixed: tuple[bool, ...]  # per segment: literal text, or a {parameter}
    methods: frozenset[str]


def templates(routes: Sequence[BaseRoute]) -> list[Template]:
    """Every HTTP route's template (mounts and websockets have no methods)."""
    found = []
    for route in iter_route_contexts(routes):
        methods, regex = route.methods, getattr(route, "path_regex", None)
        if methods and regex is not None and route.path_format:
            segments = route.path_format.split("/")
            fixed = tuple("{" not in segment for segment in segments)
            found.append(Template(regex, fixed, frozenset(methods)))
    return found


def methods_of(path: str, table: Sequence[Template]) -> frozenset[str] | None:
    """The methods of the template that owns `path`; None when no template matches it."""
    matching = [template for template in table if template.regex.match(path)]
    if not matching:
        return None
    owner = max(template.fixed for template in matching)
    # Several routes may share the owner's template, one per method.
    return frozenset().union(*(t.methods for t in matching if t.fixed == owner))


class PathMethods:
    """Pure ASGI middleware. `routes`: the app's own list; the table is rebuilt when a router
    is included after the first request (tests do)."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app, self.routes = app, routes
        self._built_from = -1
        self._table: list[Template] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._built_from != len(self.routes):
            self._table, self._built_from = templates(self.routes), len(self.routes)
        allowed = methods_of(_route_path(scope), self._table)
        method = scope["method"]
        if allowed is None or method in allowed:
            await self.app(scope, receive, send)
            return
        allow = ", ".join(sorted(allowed | {"OPTIONS"}))
        if method == "OPTIONS":
            response = Response(status_code=204, headers={"Allow": allow})
        else:
            message = f"{method} is not a method of this path; it answers {allow}"
            response = error_response(405, "METHOD_NOT_ALLOWED", message, {"Allow": allow})
        await response(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path as routes see it: behind a proxy that mounts the gateway under a root path,
    without that prefix."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path
