"""A probe's request goes to the address the egress policy checked, as a request for the URL's
own host: the desk sees `Host: <name>:<port>`, an https desk's certificate is verified for the
name, and the name is resolved once only, so a second DNS answer (rebinding) is never used."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from ipaddress import ip_address
from pathlib import Path

import httpx
import pytest

from runtime import egress
from runtime.egress import DEFAULT, Address
from runtime.tls import make_certs
from services.agent.probes.clients.desks import observe
from tests.agent.probes.desk import Desk, running_desk
from tests.agent.probes.helpers import latency_probe

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class Resolver:
    """Answers each name with the next of `answers`, and keeps the names it was asked."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = [[ip_address(a) for a in answer] for answer in answers]
        self.asked: list[str] = []

    async def __call__(self, host: str) -> list[Address]:
        self.asked.append(host)
        return self.answers[min(len(self.asked), len(self.answers)) - 1]


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    make_certs(tmp_path, days=1, hosts=["desk.test"])  # the "ops" certificate names desk.test
    return tmp_path


@pytest.fixture
def tls_desk(certs: Path) -> Iterator[Desk]:
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(certs / "ops.pem", certs / "ops.key")
    with running_desk(served) as running:
        yield running


def port(desk: Desk) -> int:
    return int(desk.url.rsplit(":", 1)[1])


async def test_a_probe_by_name_arrives_with_the_names_host_header_and_succeeds(
    desk: Desk, http: httpx.AsyncClient
) -> None:
    url = f"http://localhost:{port(desk)}"

    seen = await observe(http, latency_probe(url), NOW)

    assert (seen.status, seen.value, seen.error) == ("ok", 12.0, "")
    assert (desk.hits, desk.hosts) == (["/health"], [f"localhost:{port(desk)}"])


async def test_a_name_answering_otherwise_the_second_time_is_reached_at_its_first_answer(
    desk: Desk, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebinding = Resolver(["127.0.0.1"], ["169.254.169.254"])
    monkeypatch.setattr(egress, "resolve", rebinding)

    seen = await observe(http, latency_probe(f"http://desk.test:{port(desk)}"), NOW)

    assert (seen.status, seen.error) == ("ok", "")
    assert (desk.hits, desk.hosts) == (["/health"], [f"desk.test:{port(desk)}"])
    assert rebinding.asked == ["desk.test"]


async def test_when_the_first_checked_address_refuses_connections_the_next_one_is_used(
    desk: Desk, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(egress, "resolve", Resolver(["127.0.0.2", "127.0.0.1"]))

    seen = await observe(http, latency_probe(f"http://desk.test:{port(desk)}"), NOW)

    assert (seen.status, seen.error) == ("ok", "")
    assert desk.hits == ["/health"]


async def test_an_https_desk_is_verified_for_the_urls_name_not_the_pinned_address(
    tls_desk: Desk, certs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(egress, "resolve", Resolver(["127.0.0.1"]))
    trusted = ssl.create_default_context(cafile=certs / "ca.pem")

    async with httpx.AsyncClient(verify=trusted) as client:
        named = await observe(client, latency_probe(f"https://desk.test:{port(tls_desk)}"), NOW)
        # The certificate also names 127.0.0.1, so only a check against the name refuses this.
        other = await observe(client, latency_probe(f"https://other.test:{port(tls_desk)}"), NOW)

    assert (named.status, named.error) == ("ok", "")
    assert tls_desk.hosts == [f"desk.test:{port(tls_desk)}"]
    assert other.status == "failing"
    assert "certificate verify failed" in other.error
    assert "other.test" in other.error


async def test_a_policy_refusal_still_makes_no_request(
    desk: Desk, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(egress, "resolve", Resolver(["127.0.0.1", "169.254.169.254"]))

    seen = await observe(http, latency_probe(f"http://desk.test:{port(desk)}"), NOW, DEFAULT)

    assert seen.status == "failing"
    assert seen.error == (
        "url host desk.test (169.254.169.254) is not allowed by TRADEOPS_EGRESS_ALLOW"
    )
    assert desk.hits == []
