"""Static files a page loads, served from a fixed table of names (no path from the URL ever
reaches the file system), each read once on first request, with a strong ETag. Files under a
versioned name are immutable: a new release of them has a new URL."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import error_response

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}
TEXT = "text/plain; charset=utf-8"  # licences and notices
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class Asset:
    file: Path
    immutable: bool


@dataclass(frozen=True)
class Loaded:
    content: bytes
    etag: str


@cache
def load(file: Path) -> Loaded:
    content = file.read_bytes()
    return Loaded(content, f'"{hashlib.sha256(content).hexdigest()[:32]}"')


def serve(request: Request, assets: dict[str, Asset], name: str) -> Response:
    """The asset `name` of the table, 304 when the caller holds it, else a JSON 404."""
    asset = assets.get(name)
    if asset is None:
        return error_response(404, "NOT_FOUND", f"no such file: {name}")
    loaded = load(asset.file)
    headers = {
        "ETag": loaded.etag,
        "Cache-Control": IMMUTABLE if asset.immutable else REVALIDATE,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == loaded.etag:
        return Response(status_code=304, headers=headers)
    media_type = MEDIA_TYPES.get(asset.file.suffix, TEXT)
    return Response(loaded.content, media_type=media_type, headers=headers)
