"""The egress policy: what TRADEOPS_EGRESS_ALLOW admits when a URL is defined and before each
request, with the addresses a host resolves to; and the request pinned to a checked address, so
the name is never resolved a second time (DNS rebinding)."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from ipaddress import ip_address
from typing import Any

import pytest

from runtime import egress
from runtime.egress import DEFAULT, Address, Refused, Unresolvable, parse
from runtime.pinning import Pinned, pin, pinned
from runtime.settings import SettingsError, egress_policy

REFUSED = "is not allowed by TRADEOPS_EGRESS_ALLOW"


def allowed(policy_text: str, host: str, address: str) -> bool:
    return parse(policy_text).allows(host, ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "169.254.0.1",
        "fe80::1",
        "::ffff:169.254.169.254",
        "fe80::1%eth0",
        "fd00:ec2::254",
        "100.100.100.200",
        "::ffff:100.100.100.200",
    ],
)
def test_by_default_cloud_metadata_addresses_are_refused(address: str) -> None:
    assert not DEFAULT.allows("metadata.internal", ip_address(address))
    with pytest.raises(Refused, match=REFUSED):
        DEFAULT.check_host(address)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "::1", "8.8.8.8", "::ffff:1.2.3.4"])
def test_by_default_every_other_address_is_allowed(address: str) -> None:
    assert DEFAULT.allows("anything.example", ip_address(address))
    DEFAULT.check_host(address)
    DEFAULT.check_host("anything.example")


def test_an_unset_or_blank_setting_is_the_default_policy() -> None:
    assert egress_policy({}) == DEFAULT
    assert egress_policy({"TRADEOPS_EGRESS_ALLOW": " , "}) == DEFAULT


def test_a_listed_cidr_allows_its_addresses_only() -> None:
    policy = "10.0.0.0/8, 127.0.0.1"
    assert allowed(policy, "desk", "10.200.0.7")
    assert allowed(policy, "desk", "127.0.0.1")
    assert allowed(policy, "desk", "::ffff:10.0.0.1")  # an IPv4-mapped address is its IPv4 one
    assert not allowed(policy, "desk", "127.0.0.2")
    assert not allowed(policy, "desk", "11.0.0.1")
    assert not allowed(policy, "desk", "::1")


def test_a_link_local_address_is_allowed_only_when_a_listed_cidr_covers_it() -> None:
    assert allowed("169.254.169.254/32", "metadata", "169.254.169.254")
    assert allowed("fe80::/10", "router", "fe80::1")
    assert not allowed("*.internal", "metadata.internal", "169.254.169.254")
    assert not allowed("*.internal", "metadata.internal", "::ffff:169.254.169.254")


@pytest.mark.parametrize("address", ["fd00:ec2::254", "100.100.100.200"])
def test_other_metadata_addresses_need_a_listed_cidr_too(address: str) -> None:
    assert allowed(f"{address}, 10.0.0.0/8", "metadata", address)
    assert not allowed("*.internal", "metadata.internal", address)
    assert allowed("", "near", "100.100.100.199")  # only the metadata address itself
    parse(address).check_host(address)


def test_the_blocking_lookup_judges_like_the_async_one() -> None:
    assert DEFAULT.addresses_blocking("127.0.0.1") == [ip_address("127.0.0.1")]
    assert DEFAULT.addresses_blocking("localhost")
    with pytest.raises(Refused, match=REFUSED):
        DEFAULT.addresses_blocking("100.100.100.200")


def test_a_listed_name_allows_that_name_exactly_or_names_under_a_suffix() -> None:
    policy = "desk.example.com, *.corp.example"
    assert allowed(policy, "desk.example.com", "10.0.0.1")
    assert allowed(policy, "DESK.Example.com.", "10.0.0.1")
    assert allowed(policy, "oms.corp.example", "8.8.8.8")
    assert allowed(policy, "a.b.corp.example", "8.8.8.8")
    assert not allowed(policy, "corp.example", "8.8.8.8")
    assert not allowed(policy, "evilcorp.example", "8.8.8.8")
    assert not allowed(policy, "other.example.com", "10.0.0.1")
    assert not allowed(policy, "desk.example.com.evil.io", "10.0.0.1")


def test_at_definition_an_ip_literal_outside_a_listed_policy_is_refused() -> None:
    policy = parse("10.0.0.0/8,desk.example.com")
    policy.check_host("10.9.9.9")
    with pytest.raises(Refused, match=f"url host 127.0.0.1 {REFUSED}"):
        policy.check_host("127.0.0.1")


def test_at_definition_a_name_is_refused_only_when_no_entry_could_admit_it() -> None:
    parse("desk.example.com").check_host("desk.example.com")
    parse("10.0.0.0/8").check_host("unknown.example")  # it may resolve into 10/8
    with pytest.raises(Refused, match=f"url host unknown.example {REFUSED}"):
        parse("desk.example.com,*.corp.example").check_host("unknown.example")


@pytest.mark.parametrize(
    "entry",
    ["10.0.0.0/33", "10.0.0.1/8", "300.1.1.1", "1.2.3", "fe80::/129", "desk:8080", "example.*"],
)
def test_a_malformed_entry_stops_the_process_naming_the_setting_and_entry(entry: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(f"TRADEOPS_EGRESS_ALLOW entry '{entry}'")):
        egress_policy({"TRADEOPS_EGRESS_ALLOW": f"10.0.0.0/8,{entry}"})


async def test_before_a_request_any_resolved_address_outside_the_policy_refuses() -> None:
    with pytest.raises(Refused, match=rf"url host localhost \((127.0.0.1|::1)\) {REFUSED}"):
        await pinned(parse("10.0.0.0/8"), "http://localhost:8080/health")
    with pytest.raises(Refused, match=f"url host 169.254.169.254 {REFUSED}"):
        await pinned(DEFAULT, "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(Refused, match=rf"url host 2852039166 \(169.254.169.254\) {REFUSED}"):
        await pinned(DEFAULT, "http://2852039166/")  # the same address, spelt as a number
    with pytest.raises(Refused, match=REFUSED):
        await pinned(DEFAULT, "http://[::ffff:169.254.169.254]/")


async def test_before_a_request_a_host_inside_the_policy_passes() -> None:
    await pinned(parse("127.0.0.0/8,::1"), "http://localhost:8080/health")
    await pinned(parse("localhost"), "http://localhost:8080/health")
    await pinned(DEFAULT, "http://127.0.0.1:8080/health")


async def test_a_host_that_does_not_resolve_is_unresolvable_not_allowed() -> None:
    with pytest.raises(Unresolvable, match=r"cannot resolve url host no-such-host\.invalid"):
        await pinned(DEFAULT, "http://no-such-host.invalid/")


Resolver = Callable[[str], Coroutine[Any, Any, list[Address]]]


def rebinding(*answers: list[str]) -> tuple[Resolver, list[str]]:
    """A resolver giving each answer in turn, and the names it was asked for."""
    asked: list[str] = []

    async def resolve(host: str) -> list[Address]:
        asked.append(host)
        return [ip_address(a) for a in answers[min(len(asked), len(answers)) - 1]]

    return resolve, asked


def test_a_pinned_http_url_keeps_port_path_and_query_and_the_host_header() -> None:
    assert pin("http://Desk.Example.com:8080/health?feed=a&x=1", ip_address("10.0.0.7")) == Pinned(
        "http://10.0.0.7:8080/health?feed=a&x=1", {"Host": "desk.example.com:8080"}, {}
    )
    assert pin("http://desk.example.com/", ip_address("10.0.0.7")) == Pinned(
        "http://10.0.0.7/", {"Host": "desk.example.com"}, {}
    )


def test_a_pinned_https_url_sends_and_verifies_the_name_and_reuses_no_connection() -> None:
    assert pin("https://desk.example.com/v1/lag", ip_address("10.0.0.7")) == Pinned(
        "https://10.0.0.7/v1/lag",
        {"Host": "desk.example.com", "Connection": "close"},
        {"sni_hostname": "desk.example.com"},
    )
    assert pin("https://desk.example.com:8443/", ip_address("10.0.0.7")).headers == {
        "Host": "desk.example.com:8443",
        "Connection": "close",
    }


def test_a_pinned_ipv6_address_is_bracketed() -> None:
    assert pin("http://desk.example.com:8080/h?q=1", ip_address("2001:db8::7")).url == (
        "http://[2001:db8::7]:8080/h?q=1"
    )
    assert pin("https://[2001:db8::7]/h", ip_address("2001:db8::7")) == Pinned(
        "https://[2001:db8::7]/h",
        {"Host": "[2001:db8::7]", "Connection": "close"},
        {"sni_hostname": "2001:db8::7"},
    )


async def test_the_request_is_pinned_to_the_one_answer_that_was_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolve, asked = rebinding(["127.0.0.1"], ["169.254.169.254"])
    monkeypatch.setattr(egress, "resolve", resolve)

    targets = await pinned(DEFAULT, "http://desk.test:8080/health")

    assert [t.url for t in targets] == ["http://127.0.0.1:8080/health"]
    assert asked == ["desk.test"]  # never resolved a second time
    with pytest.raises(Refused, match=r"url host desk.test \(169.254.169.254\)"):
        await pinned(DEFAULT, "http://desk.test:8080/health")  # what a second look would see


async def test_pinning_refuses_when_any_answer_is_outside_and_keeps_the_resolver_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolve, _ = rebinding(["10.0.0.7", "169.254.169.254"], ["10.0.0.8", "10.0.0.7"])
    monkeypatch.setattr(egress, "resolve", resolve)

    with pytest.raises(Refused, match=rf"url host desk.test \(169.254.169.254\) {REFUSED}"):
        await pinned(DEFAULT, "http://desk.test/")
    targets = await pinned(DEFAULT, "http://desk.test/")
    assert [t.url for t in targets] == ["http://10.0.0.8/", "http://10.0.0.7/"]


async def test_an_ip_literal_is_pinned_without_any_resolution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolve, asked = rebinding(["169.254.169.254"])
    monkeypatch.setattr(egress, "resolve", resolve)

    [target] = await pinned(DEFAULT, "http://127.0.0.1:8080/health")

    assert target.url == "http://127.0.0.1:8080/health"
    assert asked == []
    with pytest.raises(Refused, match=f"url host 169.254.169.254 {REFUSED}"):
        await pinned(DEFAULT, "http://169.254.169.254/latest/meta-data/")
