"""/docs and /redoc, and the files they load under /docs/assets/, all from the gateway itself.

FastAPI's own pages load Swagger UI and ReDoc from a public CDN and start them with an inline
script; on a network with no way out they stay blank, and an inline script breaks the pages'
Content-Security-Policy (gateway.web.headers). These pages name only files of the gateway, by
URLs relative to the page, so they also work behind a proxy that adds a path prefix."""

from __future__ import annotations

import json
from functools import cache
from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from gateway.web import assets
from gateway.web.assets import Asset
from gateway.web.headers import page

STATIC = Path(__file__).resolve().parent / "static"
OWN = "tradeops"  # our files, beside the vendored packages' versioned folders

router = APIRouter(include_in_schema=False)


@cache
def vendored() -> dict[str, str]:
    """Each vendored package's folder (name-version), from static/vendored.json."""
    manifest = json.loads((STATIC / "vendored.json").read_text())
    return {name: f"{name}-{entry['version']}" for name, entry in manifest.items()}


@cache
def table() -> dict[str, Asset]:
    """Every file under static/ but the manifest, by its path there."""
    folders = {**{folder: True for folder in vendored().values()}, OWN: False}
    return {
        f"{folder}/{file.name}": Asset(file, immutable)
        for folder, immutable in folders.items()
        for file in sorted((STATIC / folder).iterdir())
    }


def asset_url(package: str, name: str) -> str:
    return f"docs/assets/{vendored().get(package, OWN)}/{name}"


def swagger_page(title: str, openapi_url: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - Swagger UI</title>
<link rel="icon" type="image/png" href="{asset_url("swagger-ui-dist", "favicon-32x32.png")}">
<link rel="stylesheet" href="{asset_url("swagger-ui-dist", "swagger-ui.css")}">
</head>
<body>
<div id="swagger-ui" data-openapi="{escape(openapi_url)}"></div>
<script src="{asset_url("swagger-ui-dist", "swagger-ui-bundle.js")}"></script>
<script src="{asset_url(OWN, "swagger-init.js")}"></script>
</body>
</html>
"""


def redoc_page(title: str, openapi_url: str) -> str:
    # ReDoc's bundle renders every <redoc spec-url> element by itself: no script of ours.
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - ReDoc</title>
<link rel="icon" type="image/png" href="{asset_url("swagger-ui-dist", "favicon-32x32.png")}">
</head>
<body>
<redoc spec-url="{escape(openapi_url)}"></redoc>
<script src="{asset_url("redoc", "redoc.standalone.js")}"></script>
</body>
</html>
"""


def _openapi_url(request: Request) -> str:
    return (request.app.openapi_url or "").lstrip("/")  # relative, like the assets


@router.get("/docs")
async def swagger(request: Request) -> HTMLResponse:
    return page(swagger_page(request.app.title, _openapi_url(request)))


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return page(redoc_page(request.app.title, _openapi_url(request)))


@router.get("/docs/assets/{folder}/{name}")
async def asset(request: Request, folder: str, name: str) -> Response:
    return assets.serve(request, table(), f"{folder}/{name}")
