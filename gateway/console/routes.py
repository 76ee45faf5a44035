"""Everything under /console/: the pages' routers, their static files, and errors shown as
pages. `install(app)` wires it into the gateway."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import cast

import grpc
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from gateway import errors
from gateway.console import actions, browse, data, exports, oidc, signin
from gateway.console.guard import SignInRequired, sign_in_url
from gateway.console.render import render
from gateway.console.session import Sealer
from gateway.web import assets
from gateway.web.assets import Asset

STATIC = Path(__file__).resolve().parent / "static"
ROUTERS = (
    signin.router,
    oidc.router,
    actions.router,
    browse.router,
    exports.router,
    data.router,
)

Handler = Callable[[Request, Exception], Awaitable[Response]]

files = APIRouter(prefix="/console", include_in_schema=False)


@cache
def table() -> dict[str, Asset]:
    return {file.name: Asset(file, immutable=False) for file in sorted(STATIC.iterdir())}


@files.get("/assets/{name}")
async def asset(request: Request, name: str) -> Response:
    return assets.serve(request, table(), name)


@files.get("")
async def console_root() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=308)


def install(app: FastAPI) -> None:
    app.state.console_sealer = Sealer.from_settings(app.state.settings.console)
    for router in (*ROUTERS, files):
        app.include_router(router)
    app.add_exception_handler(SignInRequired, on_sign_in_required)
    for kind in (grpc.aio.AioRpcError, HTTPException, RequestValidationError):
        app.add_exception_handler(kind, as_page(cast(Handler, app.exception_handlers[kind])))


async def on_sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    if request.url.path.startswith(f"{data.PREFIX}/"):
        return errors.error_response(401, "UNAUTHENTICATED", "the console session ended")
    return RedirectResponse(sign_in_url(exc.next_path), status_code=303)


def as_page(json_handler: Handler) -> Handler:
    """The API's handler everywhere but on console pages, which show the same error as a page
    (never a stack trace)."""

    async def handle(request: Request, exc: Exception) -> Response:
        if not _is_page(request):
            return await json_handler(request, exc)
        if isinstance(exc, grpc.aio.AioRpcError):
            status, code, message = errors.rpc_failure(request, exc)
        else:
            answer = await json_handler(request, exc)
            detail = json.loads(bytes(answer.body))["error"]
            status, code, message = answer.status_code, detail["code"], detail["message"]
        failure = {"status": status, "code": code, "message": message}
        return render(request, "error.html", status=status, failure=failure)

    return handle


def _is_page(request: Request) -> bool:
    path = request.url.path
    own = path.startswith(("/console/assets/", f"{data.PREFIX}/"))
    return path.startswith("/console/") and not own
