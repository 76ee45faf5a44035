"""OpenAPI links lead from each create to what uses what it made: every link names an operation
that exists, fills parameters that operation has (and every path parameter it needs) from fields
the create's reply has, and the values they take from the reply's example are ones the linked
route takes."""

from __future__ import annotations

import re
from typing import Any

from tests.gateway.conftest import Gateway
from tests.gateway.document import (
    Schema,
    body_schema,
    document_of,
    operations,
    resolved,
    url_of,
)

EVERYONE = ("admin", "compliance", "ops", "trader")
# Create -> operations its links must reach, at least.
EXPECTED = {
    ("post", "/incidents"): {
        ("get", "/incidents"),
        ("get", "/incidents/{incident_id}"),
        ("get", "/incidents/{incident_id}/decisions"),
        ("post", "/agent/triage"),
    },
    ("post", "/agent/triage"): {
        ("get", "/agent/triage/{decision_id}"),
        ("post", "/agent/triage/{decision_id}/feedback"),
        ("post", "/agent/remediation/{decision_id}/plan"),
        ("get", "/incidents/{incident_id}"),
        ("get", "/agent/ops/actions/{action_id}"),
    },
    ("post", "/agent/compliance/run"): {
        ("get", "/agent/compliance/runs"),
        ("get", "/agent/compliance/runs/{run_id}"),
    },
    ("post", "/exports"): {
        ("get", "/exports"),
        ("get", "/exports/{export_id}"),
        ("post", "/exports/{export_id}/verify"),
        ("post", "/exports/{export_id}/redeliver"),
    },
    ("post", "/exports/schedules"): {
        ("get", "/exports/schedules"),
        ("delete", "/exports/schedules/{schedule_id}"),
    },
    ("post", "/probes"): {("get", "/probes/{probe_id}"), ("get", "/probes/{probe_id}/runs")},
    ("post", "/triggers"): {("get", "/triggers/{trigger_id}"), ("get", "/triggers")},
    ("put", "/agent/rulesets"): {("get", "/agent/rulesets/{version}")},
    ("post", "/agent/audit-summaries"): {("get", "/agent/audit-summaries/{summary_id}")},
}


def _pointer(expression: str) -> list[str]:
    found = re.fullmatch(r"\$response\.body#/(.+)", expression)
    assert found, expression
    return found.group(1).split("/")


def _value(example: Any, pointer: list[str]) -> Any:
    for step in pointer:
        example = example[int(step)] if isinstance(example, list) else example[step]
    return example


async def test_each_create_links_to_its_get_list_and_follow_ups(gateway: Gateway) -> None:
    document = await document_of(gateway)
    by_id = {op["operationId"]: (m, p, op) for m, p, op in operations(document)}
    reached: dict[tuple[str, str], set[tuple[str, str]]] = {}
    faults = []

    for method, path, operation in operations(document):
        for code, response in operation["responses"].items():
            for name, link in response.get("links", {}).items():
                where = f"{method.upper()} {path} {code} {name}"
                if link["operationId"] not in by_id:
                    faults.append(f"{where}: no such operation")
                    continue
                target = by_id[link["operationId"]]
                reached.setdefault((method, path), set()).add((target[0], target[1]))
                reply = response["content"]["application/json"]
                faults += _check(document, where, reply, link, target)

    assert faults == []
    missing = {create: want - reached.get(create, set()) for create, want in EXPECTED.items()}
    assert {create: lacking for create, lacking in missing.items() if lacking} == {}


def _check(
    document: Schema, where: str, reply: Schema, link: Schema, target: tuple[str, str, Schema]
) -> list[str]:
    _, path, operation = target
    faults = []
    fields = resolved(document, reply["schema"])["properties"]
    sent = {k: v for k, v in link.get("requestBody", {}).items() if str(v).startswith("$")}
    expressions = {**link.get("parameters", {}), **sent}
    for expression in expressions.values():
        if _pointer(expression)[0] not in fields:
            faults.append(f"{where}: {expression} is not in the reply")
    names = {p["name"]: p["in"] for p in operation.get("parameters", [])}
    for qualified in link.get("parameters", {}):
        place, _, name = qualified.rpartition(".")
        if names.get(name) != (place or names.get(name)) or name not in names:
            faults.append(f"{where}: {qualified} is not a parameter of the target")
    needed = set(re.findall(r"\{([^}]+)\}", path))
    if needed - set(link.get("parameters", {})):
        faults.append(f"{where}: leaves {sorted(needed)} unfilled")
    body = body_schema(document, operation)
    if body is not None and set(body.get("required", [])) - set(link.get("requestBody") or {}):
        faults.append(f"{where}: leaves the body's required fields unfilled")
    return faults


async def test_following_a_link_from_a_reply_reaches_a_route_that_takes_it(
    gateway: Gateway,
) -> None:
    document = await document_of(gateway)
    by_id = {op["operationId"]: (m, p, op) for m, p, op in operations(document)}
    refused, followed = [], 0

    for method, path, operation in operations(document):
        for response in operation["responses"].values():
            example = response.get("content", {}).get("application/json", {}).get("example")
            for link in response.get("links", {}).values():
                target_method, target_path, target = by_id[link["operationId"]]
                filled = {
                    name.rpartition(".")[2]: _value(example, _pointer(expression))
                    for name, expression in link.get("parameters", {}).items()
                }
                query = {n: v for n, v in filled.items() if "{" + n + "}" not in target_path}
                body = {
                    name: _value(example, _pointer(value)) if str(value).startswith("$") else value
                    for name, value in link.get("requestBody", {}).items()
                }
                answer = await gateway.client.request(
                    target_method,
                    url_of(target_path, target, filled),
                    params=query,
                    json=body if "requestBody" in target else None,
                    headers=gateway.auth(*EVERYONE),
                )
                followed += 1
                if answer.status_code >= 300:
                    refused.append(f"{method.upper()} {path} -> {link['operationId']}: {answer}")

    assert refused == []
    assert followed >= sum(len(targets) for targets in EXPECTED.values())
