"""A real browser for the pages the gateway serves: Debian's chromium (tests/peers/install.sh)
driven by Playwright, which downloads no browser of its own. Each page is watched for what a
person would not see: every request it made, console errors, uncaught exceptions and
Content-Security-Policy violations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from playwright.sync_api import Browser, ConsoleMessage, Page, Request, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Reported by the page itself: the console message alone does not say which directive.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # Root (CI) cannot use chromium's sandbox.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watched:
    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(f"uncaught: {error}")

    def csp_violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__cspViolations || []")
        return found


@contextmanager
def watched_page(browser: Browser, width: int = 1280, height: int = 800) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watched = Watched(page)
    context.on("request", watched.on_request)  # the page's and its workers'
    page.on("console", watched.on_console)
    page.on("pageerror", watched.on_page_error)
    page.add_init_script(WATCH_CSP)
    try:
        yield watched
    finally:
        context.close()
