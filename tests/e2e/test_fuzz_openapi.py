"""Schemathesis against the gateway's own OpenAPI document, on the real system (issue 18, item
7): every check, all four phases (the document's examples, coverage, fuzzing, and the stateful
phase that follows the document's links from each create to what uses it), as admin and as
viewer, and the run must find nothing.

Driven through schemathesis's own command line (`schemathesis run`, the run a person would
type), with a configuration written from the document itself:
- the create routes (those answering 201) get CREATE_EXAMPLES generated requests each, every
  other operation OTHER_EXAMPLES (FUZZ_EXAMPLES searches deeper);
- `positive_data_acceptance` expects, for a request valid by the schema: a success, or a
  refusal that only server state can explain (403 for a rule like "a requester cannot approve
  their own action", 404 for an id that does not exist, 409 for a state that does not allow
  it). Never a 401 with a valid token, and never a 422 (what the schema allows, the route
  accepts).
- as a viewer, every operation whose `x-roles` lack `viewer` must answer 403 to a valid request,
  and nothing else: a viewer never manages a write.
The seed is fixed, so a run is reproducible. Output hides the token and nothing else, so each
failure's curl line is the request that was sent.

What is relaxed, turned off or excluded (each with why):
- `object_level_authorization` stays on but has nothing to compare: it needs two users who must
  not see each other's objects, and in tradeops what a role may read it reads whole (no object
  belongs to one person).
- `max_response_time`: no time limit, this suite has no timed tests.
- tests/e2e/fuzz_hooks.py keeps generated requests within the rules a schema cannot state
  (`until` after `since`, not both `page_size` and its deprecated alias `limit`, no invented
  `page_token`, a fresh `Idempotency-Key` per request); its docstring says why for each.
- `negative_data_rejection` also takes 413 as a rejection (a body past the size limit).
- The stateful phase's link inference is off: it follows the links the document declares, so
  a create without links to what uses it shows as chains not run, not as schemathesis's guess;
  a document without links fails the test ("the stateful phase did not run").
- No operation is excluded. For the operations in STATED_IN_WORDS, `positive_data_acceptance`
  also accepts 413 and 422: a rule across fields, on server state or on the clock, which the
  schema cannot hold and the operation's description states instead (gateway.contract.checked);
  each entry says which. Every other check still runs on them.

The run has a system of its own (its own PostgreSQL and processes): as admin it changes rule
sets, policies and probes at random, which the other end-to-end tests must not inherit.

On failure the message gives each failing check with the operations it hit, and the full
output of the run (with a curl line for each failing request) is in the test's folder:
`schemathesis-<role>.txt`, with `report.json` and `junit.xml` beside it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.stack import Stack
from tests.e2e.conftest import database, system
from tests.e2e.otlp import OtlpReceiver
from tests.keys import Keys

CREATE_EXAMPLES = 50
OTHER_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
SEED = 18
SCHEMATHESIS = [sys.executable, "-m", "schemathesis.cli"]
HOOKS = Path(__file__).resolve().with_name("fuzz_hooks.py")
# Refusals only server state explains, for a request the schema allows (see the docstring).
STATE_REFUSALS = ["2xx", "403", "404", "409", "5xx"]  # 5xx: not_a_server_error reports those
VIEWER_READS = ["2xx", "404", "409", "5xx"]
FORBIDDEN = ["403"]
# schemathesis's default rejections, and 413: a body over the gateway's size limit is refused
# before it is read, whatever else is wrong with it.
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
REJECTIONS += ["5xx"]  # not_a_server_error reports those
OPERATIONS_METHODS = {"get", "put", "post", "delete", "patch"}
# Operations whose valid-looking requests a rule beyond the schema may refuse (see the docstring).
STATED_IN_WORDS = {
    ("get", "/audit/proofs/consistency"): "the sizes must be within the log's size now",
    ("get", "/audit/proofs/inclusion"): "seq below tree_size, within the log's size now",
    ("post", "/agent/audit-summaries"): "a window of at most 31 days (since and until)",
    ("post", "/agent/compliance/run"): "check ids are the checks configured now",
    ("post", "/agent/triage/batch"): "observed_at not in the future; the whole body's size",
    ("post", "/incidents"): "observed_at not in the future (the clock)",
    ("post", "/exports"): "which parameters and seq range apply depends on the kind",
    ("post", "/exports/schedules"): "which parameters apply depends on the kind",
    ("put", "/exports/schedules/{schedule_id}"): "which parameters apply depends on the kind",
    ("post", "/exports/verify"): "ids or a time range, not both",
    ("post", "/exports/{export_id}/redeliver"): "a destination unless the export has one",
    ("post", "/triggers"): "a step's arguments depend on its action",
    ("put", "/triggers/{trigger_id}"): "a trigger's name cannot change; steps as above",
    ("put", "/agent/ops/policies/{policy_id}"): "role requirements add up to at most M",
    ("get", "/agent/ops/actions"): "order DEADLINE with awaiting_me or state PENDING_APPROVAL",
    ("put", "/agent/rulesets"): "the document is a whole rule set the agent checks",
    ("post", "/probes"): "timeout_s below interval_s; label names as Prometheus takes them",
    ("put", "/probes/{probe_id}"): "a probe's name cannot change; as for POST /probes",
    ("post", "/agent/triage/{decision_id}/feedback"): "an override changes the decision's "
    "severity or category (what they are now)",
    # pydantic's pattern engine (Rust) and the generator's (Python) differ on a few rare
    # characters as to what \S (not a blank) is; the gateway's answer is its engine's.
    ("put", "/agent/ops/escalation-policies/{policy_id}"): "names in `notify` hold no blank",
}


@pytest.fixture(scope="module")
def fuzzed(
    tmp_path_factory: pytest.TempPathFactory, otlp: OtlpReceiver, keys: Keys
) -> Iterator[Stack]:
    with database(tmp_path_factory, "fuzz-pg") as pg, system(pg, tmp_path_factory, otlp, keys) as s:
        yield s


def test_the_document_says_who_may_call_what(fuzzed: Stack) -> None:
    """The run below takes its role expectations from `x-roles`: every protected operation
    must have them, and a viewer must be refused somewhere, or the viewer run proves nothing."""
    document = _document(fuzzed)
    forbidden = _operation_ids(document, lambda op: "viewer" not in op.get("x-roles", ["viewer"]))
    assert len(forbidden) >= 30
    missing = _operation_ids(document, lambda op: "security" in op and "x-roles" not in op)
    assert not missing


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_a_schemathesis_run_with_every_check_finds_nothing(
    fuzzed: Stack, token_for: Callable[..., str], tmp_path: Path, role: str
) -> None:
    stack = fuzzed
    document = _document(stack)
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(stack.gateway_url(), document, role, token_for(f"fuzz-{role}", role)))
    output = tmp_path / f"schemathesis-{role}.txt"
    location = f"{stack.gateway_url()}/openapi.json"
    with output.open("w") as sink:
        run = subprocess.run(
            [*SCHEMATHESIS, "--config-file", str(config), "run", "--checks", "all", location],
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "160"},
            timeout=1800,  # a guard against a hang, not a time limit on the run
            check=False,
        )
    report = json.loads((tmp_path / "report.json").read_text())
    text = output.read_text()
    assert report["complete"], text[-5000:]
    operations = report["operations"]
    assert operations["tested"] == operations["total"] == _count(document), operations
    assert report["phases"]["stateful"]["status"] != "skip", (
        f"the stateful phase did not run: {report['phases']['stateful']}"
    )
    found = f"{_failures(report)}\n\nfull output: {output}\n\n{text[-20000:]}"
    assert not report["failures"], found
    assert not report["errors"], found
    assert run.returncode == 0, found


def _document(stack: Stack) -> dict[str, Any]:
    response = httpx.get(f"{stack.gateway_url()}/openapi.json", timeout=15)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        operation
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in OPERATIONS_METHODS
    ]


def _count(document: dict[str, Any]) -> int:
    return len(_operations(document))


def _operation_ids(document: dict[str, Any], keep: Callable[[dict[str, Any]], bool]) -> list[str]:
    return [op["operationId"] for op in _operations(document) if keep(op)]


def _config(base_url: str, document: dict[str, Any], role: str, token: str) -> str:
    """schemathesis.toml for one role. JSON's strings and arrays are TOML's too."""
    allowed = STATE_REFUSALS if role == "admin" else VIEWER_READS
    lines = [
        f"base-url = {json.dumps(base_url)}",
        f"seed = {SEED}",
        # One worker: with two, hypothesis parses lambdas' source (ast.parse) in two threads at
        # once, and CPython 3.11's AST constructor keeps one recursion count per interpreter, so
        # a run died now and then with "SystemError: AST constructor recursion depth mismatch"
        # (cpython gh-106905), a runtime error of the tool, not a finding about the API.
        "workers = 1",
        f"hooks = {json.dumps(str(HOOKS))}",
        "continue-on-failure = true",
        "request-timeout = 30",
        'suppress-health-check = ["all"]',
        "[cache]",
        "enabled = false",
        "[generation]",
        f"max-examples = {OTHER_EXAMPLES}",
        'database = "none"',
        "[auth.openapi.bearer]",
        f"bearer = {json.dumps(token)}",
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {json.dumps(allowed)}",
        "[checks.negative_data_rejection]",
        f"expected-statuses = {json.dumps(REJECTIONS)}",
        "[phases.stateful.inference]",
        "algorithms = []",
        "[output.sanitization]",
        'keys-to-sanitize = ["authorization"]',
        'sensitive-markers = ["authorization"]',
        "[reports.json]",
        'path = "report.json"',
        "[reports.junit]",
        'path = "junit.xml"',
    ]
    # One block per operation at most (blocks are not merged): its examples, and what a valid
    # request may meet when that differs from the default above.
    groups: dict[tuple[int, str], list[str]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in OPERATIONS_METHODS:
                continue
            examples = CREATE_EXAMPLES if "201" in operation["responses"] else OTHER_EXAMPLES
            if role not in operation.get("x-roles", [role]):
                statuses: list[str] | None = FORBIDDEN
            elif (method, path) in STATED_IN_WORDS:
                statuses = [*allowed, "413", "422"]
            else:
                statuses = None
            if examples != OTHER_EXAMPLES or statuses is not None:
                groups.setdefault((examples, json.dumps(statuses)), []).append(
                    operation["operationId"]
                )
    for (examples, statuses_json), ids in groups.items():
        lines += [
            "[[operations]]",
            f"include-operation-id = {json.dumps(ids)}",
            f"generation.max-examples = {max(examples, OTHER_EXAMPLES)}",
        ]
        if statuses_json != "null":
            lines.append(f"checks.positive_data_acceptance.expected-statuses = {statuses_json}")
    return "\n".join(lines) + "\n"


def _failures(report: dict[str, Any]) -> str:
    lines = [f"{len(report['failures'])} kinds of failure, {len(report['errors'])} of error:"]
    for failure in report["failures"]:
        lines.append(f"- {failure['title']} ({failure['count']}): {failure['operations']}")
    lines += [f"- error: {error['title']} ({error['count']})" for error in report["errors"]]
    return "\n".join(lines)
