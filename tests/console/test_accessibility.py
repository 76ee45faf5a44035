"""Every console page at 1280x800 and on a phone-sized screen: no serious or critical axe-core
violation (tests/peers/axe pins axe-core), nothing wider than the screen, and the action page's
decision reachable with the keyboard alone."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser import watched_page
from tests.console.conftest import open_action, sign_in

AXE = Path(__file__).resolve().parents[1] / "peers" / "axe" / "node_modules" / "axe-core"
SCREENS = {"desktop": (1280, 800), "phone": (390, 844)}
PAGES = ("", "actions/{action}", "incidents", "audit", "audit/0", "exports")


@cache
def axe_source() -> str:
    return (AXE / "axe.min.js").read_text()


def serious(page: Page) -> list[str]:
    """axe-core's serious and critical findings. It runs through the DevTools protocol, which
    the page's Content-Security-Policy does not govern (no inline script is added)."""
    page.evaluate(axe_source())
    found: list[dict[str, Any]] = page.evaluate("async () => (await axe.run()).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_no_page_has_a_serious_accessibility_violation(
    browser: Browser,
    link_for: Callable[..., str],
    proposed: Callable[[], dict[str, Any]],
    shots: Path,
    screen: str,
) -> None:
    action = proposed()
    width, height = SCREENS[screen]
    with watched_page(browser, width, height) as watched:
        page = watched.page
        sign_in(page, link_for("bob", "ops"))
        base = page.url
        for path in PAGES:
            page.goto(base + path.format(action=action["id"]))
            assert serious(page) == [], path
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path or 'inbox'} is {overflow}px wider than the screen"
            name = (path.split("/")[0] or "inbox").replace("{action}", "")
            page.screenshot(path=str(shots / f"{screen}-{name}.png"), full_page=True)


def test_the_decision_is_reachable_with_the_keyboard(
    browser: Browser, link_for: Callable[..., str], proposed: Callable[[], dict[str, Any]]
) -> None:
    action = proposed()
    with watched_page(browser) as watched:
        page = watched.page
        open_action(page, link_for("bob", "ops"), action["id"])
        reached = []
        for _ in range(40):
            page.keyboard.press("Tab")
            reached.append(page.evaluate("document.activeElement.textContent.trim()"))
            if reached[-1] == "Approve":
                break
        assert reached[-1] == "Approve", reached
        page.keyboard.press("Shift+Tab")
        page.keyboard.type("checked with the desk")
        assert page.get_by_label("Comment", exact=True).input_value() == "checked with the desk"
