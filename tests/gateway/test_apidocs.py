"""/docs and /redoc: pages that name only the gateway's own files, under the pages'
Content-Security-Policy, and those files as vendored from npm
(gateway/apidocs/static/vendored.json). That they render, with no other host asked for
anything, is shown in chromium by tests/offline/test_closed_network.py."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest

from gateway.apidocs.pages import STATIC
from tests.gateway.conftest import Gateway

PAGES = ("/docs", "/redoc")
MANIFEST = json.loads((STATIC / "vendored.json").read_text())
REFERENCE = re.compile(r'(?:src|href|spec-url|data-openapi)="([^"]+)"')


def directives(policy: str) -> dict[str, list[str]]:
    parts = (directive.split() for directive in policy.split(";"))
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("path", PAGES)
async def test_a_docs_page_runs_no_inline_script_and_names_no_other_host(
    gateway: Gateway, path: str
) -> None:
    response = await gateway.client.get(path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "http://" not in html
    assert "https://" not in html
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", PAGES)
async def test_every_file_a_docs_page_names_is_served_by_the_gateway(
    gateway: Gateway, path: str
) -> None:
    html = (await gateway.client.get(path)).text
    references = REFERENCE.findall(html)

    assert len(references) >= 2
    for reference in references:
        url = urljoin(f"http://testserver{path}", reference)
        response = await gateway.client.get(url)
        assert response.status_code == 200, url
        if url.endswith(".js"):
            assert response.headers["content-type"] == "text/javascript; charset=utf-8"
        if url.endswith("openapi.json"):
            assert response.json()["info"]["title"] == "tradeops"


async def test_a_vendored_file_is_immutable_and_revalidates_by_its_etag(gateway: Gateway) -> None:
    version = MANIFEST["swagger-ui-dist"]["version"]
    url = f"/docs/assets/swagger-ui-dist-{version}/swagger-ui.css"
    first = await gateway.client.get(url)
    again = await gateway.client.get(url, headers={"If-None-Match": first.headers["etag"]})

    assert first.status_code == 200
    assert first.headers["content-type"] == "text/css; charset=utf-8"
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert again.status_code == 304
    assert again.content == b""
    ours = await gateway.client.get("/docs/assets/tradeops/swagger-init.js")
    assert ours.headers["cache-control"] == "no-cache"  # not versioned: revalidated


@pytest.mark.parametrize(
    "url",
    [
        "/docs/assets/tradeops/nothing.js",
        "/docs/assets/nothing/swagger-init.js",
        "/docs/assets/tradeops/..%2F..%2Fpages.py",
        "/docs/assets/..%2Fapidocs/pages.py",
        "/docs/assets/tradeops/%2Fetc%2Fpasswd",
        "/docs/assets/tradeops/vendored.json",
    ],
)
async def test_a_file_outside_the_table_is_a_json_404(gateway: Gateway, url: str) -> None:
    response = await gateway.client.get(url)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("package", sorted(MANIFEST))
def test_each_vendored_file_is_the_one_recorded_with_its_licence(package: str) -> None:
    entry = MANIFEST[package]
    folder = STATIC / f"{package}-{entry['version']}"
    on_disk = {file.name for file in folder.iterdir()}

    assert on_disk == {Path(path).name for path in entry["files"]}
    assert "LICENSE" in on_disk
    assert entry["integrity"].startswith("sha512-")
    assert entry["tarball"].endswith(f"/{package}-{entry['version']}.tgz")
    for path, digest in entry["files"].items():
        assert hashlib.sha256((folder / Path(path).name).read_bytes()).hexdigest() == digest, path
    for path, patches in entry.get("patches", {}).items():
        content = (folder / Path(path).name).read_text()
        for patch in patches:
            assert patch["replace"] not in content
            assert patch["why"]


def test_no_vendored_file_names_a_cdn_the_page_would_load() -> None:
    """The URLs FastAPI's own pages load, and ReDoc's logo (patched out)."""
    for file in STATIC.glob("*/*.js"):
        content = file.read_text()
        for host in ("cdn.jsdelivr.net", "fastapi.tiangolo.com", "cdn.redoc.ly", "fonts.google"):
            assert host not in content, f"{file.name} names {host}"
