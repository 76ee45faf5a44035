"""Who may call a route is settled before its body is read.

FastAPI reads and decodes a route's body before it runs the route's dependencies, so with
authorization only in a dependency (gateway.rbac.authorize) a viewer sending broken JSON to
`POST /probes` got 422 instead of 403, and a caller without a token 422 instead of 401. The
protected routers build their routes as `GuardedRoute`: it authenticates the caller and checks
the route's roles, from the one RBAC table, before the body is touched, then hands the request
on; the dependency finds the caller admitted (gateway.auth.ADMITTED) and verifies nothing twice.
Every refusal is audited on the way, as before (gateway.refusals).

A protected request meets, in this order, each answered before the next is looked at:
1. 404 unknown path, 405 method the path does not serve (gateway.paths);
2. 401 no or bad token; 403 no role the route admits;
3. 413 body over the limit, as it is read (gateway.limits); a route that takes no body
   never reads one, whatever its size;
4. 422 body not UTF-8 or not JSON; then 422 naming every path, query or body value that is
   not what the route takes;
5. the route's own checks and the service's answer.

A JSON body must be UTF-8 (RFC 8259): FastAPI leaves the decoding to `json.loads`, which also
guesses UTF-16 and UTF-32, and answered an undeclared 400 to bytes that decode as none of them.
Here every body that is not UTF-8 gets the same 422 as malformed JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from gateway.auth import ADMITTED, authenticate, bearer_scheme
from gateway.errors import ApiError
from gateway.rbac import authorize

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class GuardedRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            principal = await authenticate(request, await bearer_scheme(request))
            request.scope[ADMITTED] = await authorize(request, principal)
            return await handler(Utf8Request(request.scope, request.receive))

        return guarded


class Utf8Request(Request):
    """Decodes a JSON body as UTF-8 only (a byte order mark is allowed, as RFC 8259 lets a
    parser ignore it); anything else is refused like malformed JSON."""

    async def json(self) -> Any:
        raw = await self.body()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            problem = f"not UTF-8: {exc.reason} at byte {exc.start}"
            fields = [{"field": "body", "problem": problem}]
            # An HTTPException: FastAPI passes those on from reading the body, and turns any
            # other exception into a bare 400.
            raise ApiError(
                422, "INVALID_ARGUMENT", f"invalid request: body: {problem}", fields=fields
            ) from None
        return json.loads(text)
