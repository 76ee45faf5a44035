"""Remediation settings from environment variables (defaults in parentheses):
TRADEOPS_AGENT_EXECUTORS (unset: no executor, and approved actions wait for a person) the
executors and their routes, as JSON (built by clients/executors.py);
TRADEOPS_AGENT_EXECUTION_POLL_S (2) seconds between the execution worker's passes;
TRADEOPS_AGENT_EXECUTION_STALE_S (300) how long an EXECUTING action may go without a result
before it is declared OUTCOME_UNKNOWN (never less than twice the longest executor budget).
Webhook URLs follow the egress policy (TRADEOPS_EGRESS_ALLOW, runtime/egress.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from runtime.egress import DEFAULT, EgressPolicy
from runtime.settings import egress_policy


@dataclass(frozen=True)
class Settings:
    executors: str = ""
    poll_s: float = 2.0
    stale_after_s: float = 300.0
    egress: EgressPolicy = DEFAULT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            executors=env.get("TRADEOPS_AGENT_EXECUTORS", "").strip(),
            poll_s=float(env.get("TRADEOPS_AGENT_EXECUTION_POLL_S", "2")),
            stale_after_s=float(env.get("TRADEOPS_AGENT_EXECUTION_STALE_S", "300")),
            egress=egress_policy(env),
        )
