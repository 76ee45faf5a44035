"""Run inside a network namespace with only a loopback interface, which
tests/offline/test_closed_network.py starts with `unshare --net`: `make run` under strace, the
README's walkthrough, then /docs and /redoc in chromium. Writes what it saw to OUT/result.json,
screenshots and logs beside it.

    python -m tests.offline.drill OUT"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page

from tests.browser import chromium, watched_page
from tests.docs import transcript
from tests.offline import traffic

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = "127.0.0.1:8000"  # make run's default port: free in a namespace of our own
API = f"http://{GATEWAY}"
READY_WITHIN_S = 180
RENDER_WITHIN_S = 30
# What each page shows per operation, as "METHOD /path" (Swagger UI) or the operation id (ReDoc),
# each operation once however many tags it has.
SWAGGER_SHOWN = """() => [...document.querySelectorAll(".opblock")].map((block) =>
  block.querySelector(".opblock-summary-method").textContent + " " +
  block.querySelector(".opblock-summary-path").dataset.path)"""
REDOC_SHOWN = """() => [...document.querySelectorAll("[data-section-id*='/operation/']")].map(
  (section) => section.dataset.sectionId.split("/operation/")[1])"""


def interfaces() -> list[str]:
    """The namespace's interfaces, from netlink (/sys/class/net shows the mounting namespace's)."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    listing = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
    return sorted(line.split(":")[1].strip().split("@")[0] for line in listing.stdout.splitlines())


@contextmanager
def make_run(out: Path, env: dict[str, str]) -> Iterator[None]:
    """`make run` as a user types it, every process under strace, stopped as by Ctrl-C."""
    with (out / "run.log").open("wb") as log:
        proc = subprocess.Popen(
            [*traffic.strace_argv(out / "syscalls.trace"), "make", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_ready(proc)
        yield
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGINT)  # the whole group, as the terminal's Ctrl-C does
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_ready(proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"make run exited with {proc.returncode}; see run.log")
        try:
            with urllib.request.urlopen(f"{API}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"/readyz was not 200 within {READY_WITHIN_S} s; see run.log")


def walkthrough(out: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    """The README's runnable blocks, command by command in one shell (tests.docs.transcript):
    each command's line, exit status and output, for the test to hold against the README."""
    found = transcript.steps((ROOT / "README.md").read_text())
    ran = list(transcript.run_all(found, ROOT, env))
    with (out / "walkthrough.log").open("w") as log:
        for step, result in zip(found, ran, strict=True):
            log.write(f"--- line {step.line}, exit {result.status}\n$ {step.command}\n")
            log.write(f"{result.output}\n")
    return [
        {"line": step.line, "status": result.status, "output": result.output}
        for step, result in zip(found, ran, strict=True)
    ]


def operations() -> dict[str, list[str]]:
    """The served OpenAPI document's operations, as each page names them."""
    with urllib.request.urlopen(f"{API}/openapi.json", timeout=10) as response:
        document = json.load(response)
    methods = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
    found = [
        (f"{method.upper()} {path}", item[method]["operationId"])
        for path, item in document["paths"].items()
        for method in methods
        if method in item
    ]
    return {"/docs": sorted(a for a, _ in found), "/redoc": sorted(b for _, b in found)}


def wait_until_shown(page: Page, shown_js: str, count: int, errors: list[str]) -> None:
    """Polled from here: Playwright's own wait evaluates a string in the page, which the page's
    Content-Security-Policy rightly refuses (no eval)."""
    deadline = time.monotonic() + RENDER_WITHIN_S
    while len(set(page.evaluate(shown_js))) < count:
        if time.monotonic() > deadline:
            errors.append(f"not every operation shown within {RENDER_WITHIN_S} s")
            return
        page.wait_for_timeout(200)


def look(out: Path, path: str, shown_js: str, expected: list[str]) -> dict[str, Any]:
    """Open the page; wait until it shows every operation (or give up at 30 s)."""
    with chromium() as browser, watched_page(browser) as watched:
        page = watched.page
        page.goto(f"{API}{path}")
        wait_until_shown(page, shown_js, len(set(expected)), watched.errors)
        shown = sorted(set(page.evaluate(shown_js)))
        page.screenshot(path=str(out / f"{path.strip('/')}.png"), full_page=True)
        return {
            "expected": expected,
            "shown": shown,
            "title": page.title(),
            "requests": watched.requests,
            "errors": watched.errors,
            "csp_violations": watched.csp_violations(),
        }


def foreign(urls: list[str]) -> list[str]:
    """The requests to anything but the gateway (data: and blob: URLs are not requests out)."""
    return [
        url
        for url in urls
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != GATEWAY
    ]


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"interfaces": interfaces()}
    home = out / "home"
    env = {**os.environ, "TRADEOPS_HOME": str(home), "TRADEOPS_KEYS_DIR": str(home / "keys")}
    with make_run(out, env):
        result["walkthrough"] = walkthrough(out, env)
        expected = operations()
        result["docs"] = look(out, "/docs", SWAGGER_SHOWN, expected["/docs"])
        result["redoc"] = look(out, "/redoc", REDOC_SHOWN, expected["/redoc"])
    trace = out / "syscalls.trace"
    result["addressed"] = traffic.addressed(trace)
    result["outside"] = traffic.outside(trace)
    for page in ("docs", "redoc"):
        result[page]["foreign"] = foreign(result[page]["requests"])
    (out / "result.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
