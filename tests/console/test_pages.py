"""The console in chromium, as its people use it: sign in with a one-time link, the inbox,
an action's page with the reasons behind it, a vote with a comment, the requester's disabled
button and its reason, a viewer who sees and cannot act, errors as pages, signing out."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Route, expect

from tests.browser import watched_page
from tests.console.conftest import open_action, sign_in


def test_a_link_signs_in_once_and_the_inbox_shows_what_waits(
    browser: Browser,
    link_for: Callable[..., str],
    proposed: Callable[[], dict[str, Any]],
    shots: Path,
) -> None:
    action = proposed()
    link = link_for("bob", "ops")
    with watched_page(browser) as watched:
        page = watched.page
        sign_in(page, link)
        row = page.locator(f"tr[data-action='{action['id']}']")
        expect(row).to_contain_text(action["kind"])
        expect(row).to_contain_text("1 more approval")
        page.screenshot(path=str(shots / "inbox.png"), full_page=True)
        cookie = next(c for c in page.context.cookies() if c["name"] == "tradeops_console")
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Lax"
        assert cookie["path"] == "/console"
        assert watched.errors == []
        assert watched.csp_violations() == []
    with watched_page(browser) as again:
        again.page.goto(link)
        again.page.get_by_role("button", name="Continue as").click()
        expect(again.page.get_by_role("alert")).to_contain_text("used already")


def test_an_approver_reads_why_and_approves_with_a_comment(
    browser: Browser,
    link_for: Callable[..., str],
    proposed: Callable[[], dict[str, Any]],
    shots: Path,
) -> None:
    action = proposed()
    with watched_page(browser) as watched:
        page = watched.page
        open_action(page, link_for("bob", "ops"), action["id"])
        expect(page.get_by_role("heading", name="Why the agent proposed it")).to_be_visible()
        expect(page.locator("table").first).to_contain_text("latency_ms")
        page.screenshot(path=str(shots / "action.png"), full_page=True)
        page.get_by_label("Comment", exact=True).fill("failover confirmed with the desk")
        page.get_by_role("button", name="Approve").click()
        expect(page.locator("h1 .state")).to_have_text("approved")
        expect(page.get_by_role("heading", name="Votes").locator("..")).to_contain_text(
            "failover confirmed with the desk"
        )
        assert watched.errors == []


def test_the_requester_sees_the_button_disabled_and_why(
    browser: Browser,
    link_for: Callable[..., str],
    proposed: Callable[[], dict[str, Any]],
    shots: Path,
) -> None:
    action = proposed()
    with watched_page(browser) as watched:
        page = watched.page
        open_action(page, link_for("olga", "ops"), action["id"])
        approve = page.get_by_role("button", name="Approve")
        expect(approve).to_be_disabled()
        expect(page.locator("#why-not")).to_have_text("You requested this action.")
        page.screenshot(path=str(shots / "action-requester.png"), full_page=True)


def test_a_viewer_sees_and_is_offered_nothing_to_do(
    browser: Browser, link_for: Callable[..., str], proposed: Callable[[], dict[str, Any]]
) -> None:
    action = proposed()
    with watched_page(browser) as watched:
        page = watched.page
        open_action(page, link_for("vic", "viewer"), action["id"])
        expect(page.get_by_role("heading", level=1)).to_contain_text(action["kind"])
        assert page.get_by_role("button", name="Approve").count() == 0
        assert page.get_by_role("button", name="Comment").count() == 0
        expect(page.locator("main")).to_contain_text("cannot vote")


def test_a_refused_call_shows_the_apis_error_as_a_page(
    browser: Browser, link_for: Callable[..., str]
) -> None:
    with watched_page(browser) as watched:
        page = watched.page
        sign_in(page, link_for("bob", "ops"))
        page.goto(page.url + "actions/00000000-0000-0000-0000-000000000000")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("404 NOT_FOUND")
        assert "Traceback" not in page.content()


def test_signing_out_ends_the_session(browser: Browser, link_for: Callable[..., str]) -> None:
    with watched_page(browser) as watched:
        page = watched.page
        sign_in(page, link_for("bob", "ops"))
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("status")).to_contain_text("signed out")
        page.goto(page.url.split("/console/")[0] + "/console/")
        assert "/console/signin" in page.url


def test_a_record_verifies_in_the_page_and_a_tampered_proof_fails(
    browser: Browser,
    link_for: Callable[..., str],
    proposed: Callable[[], dict[str, Any]],
    shots: Path,
) -> None:
    proposed()  # records enough to be under a signed checkpoint soon
    with watched_page(browser) as watched:
        page = watched.page
        sign_in(page, link_for("carol", "compliance"))
        base = page.url
        page.goto(base + "audit/0")
        section = page.locator("[data-verify]")
        _verify_until_covered(page)
        expect(section).to_have_attribute("data-verify-result", "ok")
        steps = page.locator("[data-verify-steps] li")
        assert steps.count() >= 8
        assert page.locator("[data-verify-steps] li[data-ok='false']").count() == 0
        page.screenshot(path=str(shots / "record-verified.png"), full_page=True)

        page.route("**/console/data/audit/proofs/inclusion*", _flip_a_proof_bit)
        page.get_by_role("button", name="Verify in my browser").click()
        expect(section).to_have_attribute("data-verify-result", "failed")
        expect(page.locator("[data-verify-steps] li[data-ok='false']").first).to_be_visible()
        page.screenshot(path=str(shots / "record-tampered.png"), full_page=True)
        assert watched.csp_violations() == []


def _verify_until_covered(page: Page) -> None:
    """The first checkpoint is cut a moment after the first records: ask again until it covers
    record 0 (the page says "try again in a few seconds" until then)."""
    section = page.locator("[data-verify]")
    for _ in range(30):
        page.get_by_role("button", name="Verify in my browser").click()
        expect(section).not_to_have_attribute("data-verify-result", "running")
        if section.get_attribute("data-verify-result") == "ok":
            return
        page.wait_for_timeout(1000)


def _flip_a_proof_bit(route: Route) -> None:
    reply = route.fetch()
    body = reply.json()
    first = body["proof"][0] if body["proof"] else body["leaf_hash"]
    flipped = f"{int(first[0], 16) ^ 1:x}{first[1:]}"
    if body["proof"]:
        body["proof"][0] = flipped
    else:
        body["leaf_hash"] = flipped
    route.fulfill(response=reply, json=body)


def test_compliance_makes_an_evidence_pack_and_verifies_it(
    browser: Browser,
    link_for: Callable[..., str],
    proposed: Callable[[], dict[str, Any]],
    shots: Path,
) -> None:
    action = proposed()
    with watched_page(browser) as watched:
        page = watched.page
        sign_in(page, link_for("carol", "compliance"))
        page.goto(page.url + "exports")
        page.get_by_label("Evidence pack for action").fill(action["id"])
        page.get_by_role("button", name="Create evidence pack").click()
        state = page.locator("#export-state")
        expect(state).to_have_text(re.compile("signed|delivered|verified"), timeout=30_000)
        page.get_by_role("button", name="Verify again").click()
        expect(page.locator("#verification")).to_contain_text("Verified")
        page.screenshot(path=str(shots / "export.png"), full_page=True)
        manifest = json.loads(_download(page, "manifest.json"))
        for listed in manifest["files"][:2]:
            data = _download(page, listed["name"])
            assert hashlib.sha256(data).hexdigest() == listed["sha256"]
        assert watched.errors == []


def _download(page: Page, name: str) -> bytes:
    with page.expect_download() as started:
        page.get_by_role("link", name=name, exact=True).click()
    return Path(started.value.path()).read_bytes()


def test_a_viewer_is_not_offered_an_evidence_pack(
    browser: Browser, link_for: Callable[..., str]
) -> None:
    with watched_page(browser) as watched:
        page = watched.page
        sign_in(page, link_for("vic", "viewer"))
        page.goto(page.url + "exports")
        assert page.get_by_role("button", name="Create evidence pack").count() == 0


def test_a_vote_updates_another_persons_open_inbox_without_reload(
    browser: Browser,
    link_for: Callable[..., str],
    proposed: Callable[[], dict[str, Any]],
    shots: Path,
) -> None:
    action = proposed()
    with watched_page(browser) as carol_seen, watched_page(browser) as bob_seen:
        carol = carol_seen.page
        sign_in(carol, link_for("carol", "compliance"))
        row = carol.locator(f"tr[data-action='{action['id']}']")
        expect(row).to_be_visible()
        expect(carol.locator("[data-live]")).to_have_attribute("data-connected", "1")
        carol.evaluate("window.stillTheSamePage = true")  # a reload would forget it

        bob = bob_seen.page
        open_action(bob, link_for("bob", "ops"), action["id"])
        bob.get_by_label("Comment", exact=True).fill("approved while carol watches")
        bob.get_by_role("button", name="Approve").click()
        expect(bob.locator("h1 .state")).to_have_text("approved")

        expect(row).to_have_count(0, timeout=10_000)
        fresh = proposed()
        expect(carol.locator(f"tr[data-action='{fresh['id']}']")).to_be_visible(timeout=10_000)
        assert carol.evaluate("window.stillTheSamePage") is True
        expect(carol.locator("[data-live]")).to_contain_text("Updated")
        carol.screenshot(path=str(shots / "inbox-live.png"), full_page=True)
        assert carol_seen.errors == []
        assert bob_seen.errors == []


def test_assign_acknowledge_and_comment_land_in_the_timeline(
    browser: Browser, link_for: Callable[..., str], proposed: Callable[[], dict[str, Any]]
) -> None:
    action = proposed()
    with watched_page(browser) as watched:
        page = watched.page
        open_action(page, link_for("bob", "ops"), action["id"])
        page.get_by_role("button", name="Assign").click()
        expect(page.locator("dl.facts").first).to_contain_text("bob")
        page.get_by_role("button", name="Acknowledge").click()
        page.get_by_label("Add a comment").fill("desk says the feed recovered at 14:02")
        page.get_by_role("button", name="Comment", exact=True).click()
        # The default policy has no escalation chain: escalating is not offered.
        assert page.get_by_role("button", name="Escalate").count() == 0
        timeline = page.locator("ol.timeline")
        for kind in ("assignment", "acknowledgement", "comment"):
            expect(timeline).to_contain_text(kind)
        expect(timeline).to_contain_text("desk says the feed recovered at 14:02")
        assert watched.errors == []
