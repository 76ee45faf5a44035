"""What the OpenAPI document allows is what the gateway takes: each route's example bodies and
values fit their schemas and the route takes them; a number the schema calls an integer is
taken as one; bounds are exact; text rules (no NUL) are declared where they are enforced; and
the names a schema lists are those the services accept."""

from __future__ import annotations

from typing import Any

from gateway.bodies.base import MAX_INT64
from services.agent.triage.domain.incidents import (
    MAX_METRIC_NAME,
    MAX_METRICS,
    MAX_SUMMARY,
    MAX_TEXT,
)
from services.export.domain.requests import FILTERS, STATUSES
from tests.gateway.conftest import Gateway
from tests.gateway.document import (
    Schema,
    body_schema,
    document_of,
    operations,
    resolved,
    url_of,
    validator,
)
from tradeops.agent.v1 import probe_service_pb2 as probe_pb

EVERYONE = ("admin", "compliance", "ops", "trader")
# A rule set is taken only as the active version + 1 declaring every kind the active one does:
# no fixed body can be an example the route takes; its description says so.
NO_FIXED_EXAMPLE = {"PUT /agent/rulesets"}


def _examples(schema: Schema) -> list[Any]:
    return list(schema.get("examples", [])) + ([schema["example"]] if "example" in schema else [])


async def test_every_body_has_an_example_and_every_example_fits_and_is_taken(
    gateway: Gateway,
) -> None:
    document = await document_of(gateway)
    without, misfit, refused = [], [], []

    for method, path, operation in operations(document):
        refused += await _query_examples_refused(gateway, method, path, operation)
        body = body_schema(document, operation)
        if body is None:
            continue
        name = f"{method.upper()} {path}"
        examples = _examples(body)
        if not examples and body.get("required") and name not in NO_FIXED_EXAMPLE:
            without.append(name)
        fits = validator(document, body)
        for example in examples:
            variants = [example] + [{**example, f: v} for f, v in _field_examples(document, body)]
            for sent in variants:
                misfit += [f"{name} {sent}: {e.message}" for e in fits.iter_errors(sent)]
                response = await gateway.client.request(
                    method, url_of(path, operation), json=sent, headers=gateway.auth(*EVERYONE)
                )
                if response.status_code >= 300:
                    refused.append(f"{name} {sent}: {response.status_code} {response.text}")

    assert without == []
    assert misfit == []
    assert refused == []


async def _query_examples_refused(
    gateway: Gateway, method: str, path: str, operation: Schema
) -> list[str]:
    refused = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query":
            continue
        for value in _examples(parameter["schema"]):
            response = await gateway.client.request(
                method,
                url_of(path, operation),
                params={parameter["name"]: value},
                headers=gateway.auth(*EVERYONE),
            )
            if response.status_code >= 300:
                refused.append(f"{method.upper()} {path}?{parameter['name']}={value}")
    return refused


def _field_examples(document: Schema, body: Schema) -> list[tuple[str, Any]]:
    """Each top-level field's own examples, to send in place of the body example's value."""
    found = []
    for field, schema in body.get("properties", {}).items():
        for option in schema.get("anyOf", [schema]):
            found += [(field, value) for value in _examples(resolved(document, option))]
    return found


async def test_a_whole_number_written_with_a_point_is_an_integer(gateway: Gateway) -> None:
    document = await document_of(gateway)
    probe = {
        "name": "itch-lag",
        "url": "http://md-gateway-ny4:9100/metrics",
        "reading": {"type": "json", "path": "$.lag"},
        "rule": {"type": "threshold", "op": ">", "value": 500},
        "interval_s": 59.0,  # JSON Schema: an integer
        "timeout_s": 2,
        "incident": {"kind": "market_data_latency", "subject": "XNAS-ITCH", "summary": "lag"},
    }
    assert validator(document, {"$ref": "#/components/schemas/ProbeBody"}).is_valid(probe)
    gateway.recorder.calls.clear()  # the document's fetch asked the agent for its kinds

    response = await gateway.client.post("/probes", json=probe, headers=gateway.auth("admin"))

    assert response.status_code == 201, response.text
    sent = gateway.recorder.only("PutProbe").request
    assert isinstance(sent, probe_pb.PutProbeRequest)
    assert sent.definition.interval_s == 59
    refused = await gateway.client.post(
        "/probes", json={**probe, "interval_s": 59.5}, headers=gateway.auth("admin")
    )
    assert refused.status_code == 422


def _integers(node: Any) -> list[Schema]:
    if isinstance(node, list):
        return [found for item in node for found in _integers(item)]
    if not isinstance(node, dict):
        return []
    own = [node] if node.get("type") == "integer" else []
    return own + [found for value in node.values() for found in _integers(value)]


async def test_integer_bounds_are_exact_integers_the_server_takes(gateway: Gateway) -> None:
    document = await document_of(gateway)
    bounds = [
        value
        for schema in _integers(document)
        for key in ("minimum", "maximum")
        if (value := schema.get(key)) is not None
    ]

    assert all(isinstance(value, int) for value in bounds)
    assert max(bounds) == MAX_INT64
    consistency = document["paths"]["/audit/proofs/consistency"]["get"]["parameters"]
    first = next(p for p in consistency if p["name"] == "first_size")
    assert first["schema"]["minimum"] == 1  # the audit service proves nothing from 0
    response = await gateway.client.get(
        "/audit/proofs/consistency",
        params={"first_size": MAX_INT64, "second_size": MAX_INT64},
        headers=gateway.auth("viewer"),
    )
    assert response.status_code == 200


def _texts(node: Any, where: str) -> list[tuple[str, Schema]]:
    """Every string schema under a request schema, with where it sits."""
    if isinstance(node, list):
        return [found for i, item in enumerate(node) for found in _texts(item, f"{where}[{i}]")]
    if not isinstance(node, dict):
        return []
    own = [(where, node)] if node.get("type") == "string" else []
    return own + [
        found
        for key, value in node.items()
        if key not in ("examples", "example", "default")
        for found in _texts(value, f"{where}.{key}")
    ]


async def test_nul_is_refused_by_every_text_rule_the_document_declares(gateway: Gateway) -> None:
    document = await document_of(gateway)
    requests = {
        name: schema
        for name, schema in document["components"]["schemas"].items()
        if "." not in name and not name.startswith("Error")
    }
    queries = {
        f"{method.upper()} {path}?{p['name']}": p["schema"]
        for method, path, operation in operations(document)
        for p in operation.get("parameters", [])
        if p["in"] == "query"
    }
    texts = _texts(requests, "") + _texts(queries, "")
    plain = {"$ref": "#/components/schemas/PlainJson"}

    allowed = [
        where
        for where, schema in texts
        if not ({"enum", "format", "const"} & schema.keys())
        and validator(document, schema).is_valid("a\x00-long-enough-text-9")
    ]

    assert allowed == []
    assert not validator(document, plain).is_valid("a\x00")
    assert not validator(document, plain).is_valid({"fe\x00ed": 1})
    assert validator(document, plain).is_valid({"feed": ["XNAS-ITCH", 1, None]})
    # Deeper, the schema cannot say it (it would refer to itself, which client generators
    # cannot read): the description does, and the gateway refuses it.
    assert "no NUL" in document["components"]["schemas"]["PlainJson"]["description"]
    nested = await gateway.client.put(
        "/agent/ops/actions/0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a002/parameters",
        json={"parameters": {"feed": ["a\x00"]}},
        headers=gateway.auth("ops"),
    )
    assert nested.status_code == 422, nested.text
    response = await gateway.client.post(
        "/agent/ops/actions/0b0e3f55-9c1d-4a44-9a2a-6f6f35f1a002/comments",
        json={"text": "a\x00b"},
        headers=gateway.auth("trader"),
    )
    assert response.status_code == 422  # the rule declared is the rule enforced


async def test_export_parameters_are_the_filters_the_export_service_knows(
    gateway: Gateway,
) -> None:
    document = await document_of(gateway)
    schemas = document["components"]["schemas"]
    parameters = resolved(document, schemas["NewExport"]["properties"]["parameters"])

    assert set(parameters["properties"]) == set().union(*FILTERS.values())
    assert parameters["additionalProperties"] is False
    status = parameters["properties"]["status"]["anyOf"][0]
    assert set(status["enum"]) == STATUSES
    schedule = resolved(document, schemas["ScheduleBody"]["properties"]["parameters"])
    assert schedule == parameters
    gateway.recorder.calls.clear()
    response = await gateway.client.post(
        "/exports",
        json={"kind": "incidents_report", "parameters": {"feed": "XNAS-ITCH"}},
        headers=gateway.auth("compliance"),
    )
    assert response.status_code == 422
    assert "parameters.feed" in response.text
    assert gateway.recorder.calls == []


async def test_the_rules_only_the_service_checks_are_named_where_they_apply(
    gateway: Gateway,
) -> None:
    document = await document_of(gateway)
    described = {
        (method, path): operation.get("description", "")
        for method, path, operation in operations(document)
    }

    lead = "Checked by the service, not the schema"
    assert "observed_at not in the future" in described["post", "/incidents"]
    assert "ids or a time range, not both" in described["post", "/exports/verify"]
    assert "active version + 1" in described["put", "/agent/rulesets"]
    # Every list that pages by a server-issued cursor says so.
    paged = [
        (method, path)
        for method, path, operation in operations(document)
        if any(p["name"] == "page_token" for p in operation.get("parameters", []))
    ]
    assert len(paged) >= 5
    unsaid = [key for key in paged if "next_page_token this server gave" not in described[key]]
    assert unsaid == []
    assert all(text.count(lead) <= 1 for text in described.values())


async def test_a_probe_url_the_agent_refuses_is_refused_by_the_schema_and_the_gateway(
    gateway: Gateway,
) -> None:
    document = await document_of(gateway)
    schema = document["components"]["schemas"]["ProbeBody"]
    url = validator(document, schema["properties"]["url"])
    probe = schema["examples"][0]
    gateway.recorder.calls.clear()

    for refused in ("ftp://md-gateway-ny4/metrics", "http:///metrics", "http://a:65536/", "x"):
        assert not url.is_valid(refused)
        response = await gateway.client.post(
            "/probes", json={**probe, "url": refused}, headers=gateway.auth("admin")
        )
        assert response.status_code == 422
    assert gateway.recorder.calls == []
    assert url.is_valid("HTTPS://md-gateway-ny4.example:65535/metrics?x=1")
    assert url.is_valid("http://[2001:db8::7]:9100/metrics")  # the egress policy judges hosts


async def test_a_probe_refuses_what_its_schema_refuses_in_numbers_and_metric_names(
    gateway: Gateway,
) -> None:
    document = await document_of(gateway)
    probe = document["components"]["schemas"]["ProbeBody"]["examples"][0]
    gateway.recorder.calls.clear()  # the document's fetch asked the agent for its kinds
    refused = [
        {**probe, "rule": {**probe["rule"], "value": False}},  # was taken as 0
        {**probe, "timeout_s": True},
        {**probe, "reading": {**probe["reading"], "metric": "0-lag"}},
    ]
    for body in refused:
        assert not validator(document, {"$ref": "#/components/schemas/ProbeBody"}).is_valid(body)
        response = await gateway.client.post("/probes", json=body, headers=gateway.auth("admin"))
        assert response.status_code == 422, body
    assert gateway.recorder.calls == []


async def test_a_route_that_declares_query_parameters_refuses_an_undeclared_one(
    gateway: Gateway,
) -> None:
    document = await document_of(gateway)
    taken = []

    for method, path, operation in operations(document):
        if not any(p["in"] == "query" for p in operation.get("parameters", [])):
            continue
        response = await gateway.client.request(
            method, url_of(path, operation), params={"colour": "red"}, headers=gateway.auth("admin")
        )
        if response.status_code != 422:
            taken.append(f"{method.upper()} {path}: {response.status_code}")

    assert taken == []


async def test_the_feedback_schema_states_what_an_override_and_an_agreement_carry(
    gateway: Gateway,
) -> None:
    document = await document_of(gateway)
    fits = validator(document, {"$ref": "#/components/schemas/FeedbackBody"})
    url = "/agent/triage/0b7d8f6e-2c1a-4e8b-9f3d-5a6c7e8f9a0b/feedback"
    bodies = {
        "an agreement": ({"verdict": "agree"}, True),
        "an agreement with a reason": ({"verdict": "agree", "reason": "right call"}, True),
        "an agreement with a correction": ({"verdict": "agree", "corrected_severity": "P1"}, False),
        "an override": ({"verdict": "override", "corrected_category": "fx", "reason": "fx"}, True),
        "an override without a reason": (
            {"verdict": "override", "corrected_severity": "P1"},
            False,
        ),
        "an override with a blank reason": (
            {"verdict": "override", "corrected_severity": "P1", "reason": "  "},
            False,
        ),
        "an override correcting nothing": ({"verdict": "override", "reason": "wrong"}, False),
    }

    for what, (body, valid) in bodies.items():
        assert fits.is_valid(body) is valid, what
        response = await gateway.client.post(url, json=body, headers=gateway.auth("trader"))
        assert (response.status_code == 201) is valid, (what, response.text)


async def test_an_incident_schema_has_the_agents_limits(gateway: Gateway) -> None:
    document = await document_of(gateway)
    fields = document["components"]["schemas"]["NewIncident"]["properties"]
    metrics = fields["metrics"]

    assert fields["subject"]["maxLength"] <= MAX_TEXT
    assert fields["source"]["maxLength"] <= MAX_TEXT
    assert fields["summary"]["maxLength"] <= MAX_SUMMARY
    assert metrics["maxProperties"] <= MAX_METRICS
    assert metrics["propertyNames"]["maxLength"] <= MAX_METRIC_NAME
    fits = validator(document, {"$ref": "#/components/schemas/NewIncident"})
    example = document["components"]["schemas"]["NewIncident"]["examples"][0]
    for field, refused in (("subject", "x" * (MAX_TEXT + 1)), ("subject", " "), ("source", " ")):
        assert not fits.is_valid({**example, field: refused}), field
    assert not fits.is_valid({**example, "metrics": {"m" * (MAX_METRIC_NAME + 1): 1}})
