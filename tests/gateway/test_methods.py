"""What a client learns about a path's methods: 405 with an `Allow` naming every method the
path answers, OPTIONS answered with that list, and fixed paths never taken for the value of a
`{parameter}` in a sibling template (gateway.paths)."""

from __future__ import annotations

import itertools
from collections import defaultdict

from fastapi.routing import iter_route_contexts

from tests.gateway.conftest import Gateway

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SAMPLE = "x1"  # a parameter's value, matching no fixed segment


def served(gateway: Gateway) -> dict[str, set[str]]:
    """Each path template of the app, with the methods its routes serve."""
    table: dict[str, set[str]] = defaultdict(set)
    for route in iter_route_contexts(gateway.app.routes):
        if route.methods and route.path_format:
            table[route.path_format] |= route.methods
    return table


def is_param(segment: str) -> bool:
    return segment.startswith("{")


def params(template: str) -> set[str]:
    return {f"path.{s[1:-1]}" for s in template.split("/") if is_param(s)}


def concrete(template: str) -> str:
    return "/".join(SAMPLE if is_param(s) else s for s in template.split("/"))


def overlaps(table: dict[str, set[str]]) -> list[tuple[str, str, str]]:
    """(path, the fixed template that owns it, the {param} template that also matches it), for
    every pair of templates some path matches both of: the owner has fixed text at the first
    segment where one has text and the other a parameter."""
    found = []
    for a, b in itertools.permutations(table, 2):
        sa, sb = a.split("/"), b.split("/")
        if len(sa) != len(sb):
            continue
        if any(x != y for x, y in zip(sa, sb, strict=True) if not is_param(x) and not is_param(y)):
            continue
        kinds = [(is_param(x), is_param(y)) for x, y in zip(sa, sb, strict=True)]
        first = next((k for k in kinds if k[0] != k[1]), None)
        if first == (False, True):  # a is fixed where b has a parameter
            path = "/".join(y if is_param(x) else x for x, y in zip(sa, sb, strict=True))
            found.append((concrete(path), a, b))
    return found


def allow(methods: set[str]) -> str:
    return ", ".join(sorted(methods | {"OPTIONS"}))


async def test_options_answers_204_with_every_method_of_the_path_and_needs_no_token(
    gateway: Gateway,
) -> None:
    response = await gateway.client.options("/incidents")

    assert response.status_code == 204
    assert response.headers["allow"] == "GET, OPTIONS, POST"
    assert response.content == b""
    assert gateway.recorder.calls == []


async def test_every_path_refuses_a_method_it_does_not_serve_with_405_listing_all_it_does(
    gateway: Gateway,
) -> None:
    table = served(gateway)
    for template, methods in sorted(table.items()):
        path = concrete(template)
        options = await gateway.client.options(path)
        assert (options.status_code, options.headers.get("allow")) == (204, allow(methods)), path
        for method in sorted(set(METHODS) - methods):
            response = await gateway.client.request(method, path, headers=gateway.auth("admin"))
            assert response.status_code == 405, (method, path, response.text)
            assert response.headers["allow"] == allow(methods), (method, path)
            assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
            assert method in response.json()["error"]["message"]
    assert gateway.recorder.calls == []


async def test_a_fixed_path_is_never_read_as_the_parameter_of_a_sibling_template(
    gateway: Gateway,
) -> None:
    table = served(gateway)
    cases = overlaps(table)
    assert {(path, owner) for path, owner, _ in cases} >= {
        ("/agent/triage/batch", "/agent/triage/batch"),
        ("/exports/verify", "/exports/verify"),
        ("/exports/schedules/verify", "/exports/schedules/{schedule_id}"),
        ("/audit/checkpoints/latest.txt", "/audit/checkpoints/latest.txt"),
    }
    for path, owner, other in cases:
        for method in METHODS:
            response = await gateway.client.request(method, path, headers=gateway.auth("admin"))
            if method not in table[owner]:
                assert response.status_code == 405, (method, path, other, response.text)
                assert response.headers["allow"] == allow(table[owner]), (method, path)
            elif response.status_code == 422:
                # Reached the owner: whatever it refuses, it is not a parameter of `other`.
                fields = {f["field"] for f in response.json()["error"].get("fields", [])}
                assert not fields & (params(other) - params(owner)), (method, path, fields)


async def test_get_of_a_post_only_fixed_path_is_405_not_a_bad_id(gateway: Gateway) -> None:
    for path in ("/agent/triage/batch", "/exports/verify"):
        response = await gateway.client.get(path, headers=gateway.auth("admin"))

        assert response.status_code == 405
        assert response.headers["allow"] == "OPTIONS, POST"
    assert gateway.recorder.calls == []
