"""TRADEOPS_AGENT_EXECUTORS: which executor runs which action kind, built from the text
remediation.settings.Settings reads.

A JSON object; unset or empty means no executor, so approved actions wait for a person:

    {
      "default": "desk-oms",
      "routes": {"restart_fix_session": "fix-gateway"},
      "executors": [
        {"name": "desk-oms", "type": "webhook", "url": "https://oms.desk/tradeops",
         "urls": {"throttle_strategy": "https://algo.desk/throttle"},
         "secret_file": "/run/secrets/oms-hmac", "timeout_s": 5, "retries": 3, "backoff_s": 0.5},
        {"name": "fix-gateway", "type": "webhook", "url": "...", "secret_file": "..."},
        {"name": "demo", "type": "simulator", "fail_kinds": ["restart_fix_session"],
         "unknown_kinds": []}
      ]
    }

An action's kind picks its route, else the default; a kind with neither is left to people.
Secrets are read from their files and never logged."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.egress import DEFAULT, EgressPolicy, Refused
from services.agent.remediation.clients.simulator import SimulatorExecutor
from services.agent.remediation.clients.webhook import WebhookExecutor
from services.agent.remediation.domain.executions import Executor

ENV = "TRADEOPS_AGENT_EXECUTORS"


class ExecutorConfigError(ValueError):
    """TRADEOPS_AGENT_EXECUTORS is malformed; the service refuses to start with it."""


@dataclass(frozen=True)
class Executors:
    by_name: Mapping[str, Executor]
    routes: Mapping[str, str]
    default: str = ""

    def for_kind(self, kind: str) -> Executor | None:
        return self.by_name.get(self.routes.get(kind, self.default))

    @property
    def budget_s(self) -> float:
        return max((e.budget_s for e in self.by_name.values()), default=0.0)


def load(raw: str, egress: EgressPolicy = DEFAULT) -> Executors:
    """The executors TRADEOPS_AGENT_EXECUTORS (remediation.settings) describes; empty: none."""
    try:
        doc = json.loads(raw) if raw else {}
    except json.JSONDecodeError as exc:
        raise ExecutorConfigError(f"{ENV} is not valid JSON: {exc.msg}") from None
    return parse(doc, egress)


def parse(doc: Any, egress: EgressPolicy = DEFAULT) -> Executors:
    if not isinstance(doc, dict):
        raise ExecutorConfigError(f"{ENV} must be a JSON object")
    built = [_executor(entry, i, egress) for i, entry in enumerate(doc.get("executors", []))]
    by_name = {name: executor for name, executor in built}
    if len(by_name) != len(built):
        raise ExecutorConfigError(f"{ENV} names an executor twice")
    routes, default = dict(doc.get("routes", {})), str(doc.get("default", ""))
    unknown = {*routes.values(), *([default] if default else [])} - set(by_name)
    if unknown:
        raise ExecutorConfigError(f"{ENV} routes to unknown executors: {sorted(unknown)}")
    return Executors(by_name, routes, default)


def _executor(entry: Any, index: int, egress: EgressPolicy) -> tuple[str, Executor]:
    where = f"{ENV}.executors[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise ExecutorConfigError(f"{where} must be an object with a non-empty name")
    if entry.get("type") == "simulator":
        fail, unknown = entry.get("fail_kinds", []), entry.get("unknown_kinds", [])
        return entry["name"], SimulatorExecutor(entry["name"], frozenset(fail), frozenset(unknown))
    if entry.get("type") != "webhook":
        raise ExecutorConfigError(f"{where}: type must be webhook or simulator")
    url = entry.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ExecutorConfigError(f"{where}: url must start with http:// or https://")
    urls = dict(entry.get("urls", {}))
    try:
        for each in [url, *urls.values()]:
            egress.check_url(str(each))
    except Refused as exc:
        raise ExecutorConfigError(f"{where}: {exc}") from None
    return entry["name"], WebhookExecutor(
        label=entry["name"],
        url=url,
        secret=_secret(entry.get("secret_file"), where),
        urls=urls,
        timeout_s=float(entry.get("timeout_s", 5.0)),
        retries=int(entry.get("retries", 3)),
        backoff_s=float(entry.get("backoff_s", 0.5)),
        egress=egress,
    )


def _secret(path: Any, where: str) -> str:
    if not isinstance(path, str) or not path:
        raise ExecutorConfigError(f"{where} needs a secret_file")
    try:
        secret = Path(path).read_text().strip()
    except OSError as exc:
        raise ExecutorConfigError(
            f"{where}: cannot read secret_file {path}: {exc.strerror}"
        ) from None
    if not secret:
        raise ExecutorConfigError(f"{where}: secret_file {path} is empty")
    return secret
