"""Probe settings from environment variables (defaults in parentheses):
TRADEOPS_AGENT_PROBE_POLL_S (1) seconds between a replica's passes; TRADEOPS_AGENT_PROBE_BATCH
(20) probes claimed per pass (their requests run concurrently); TRADEOPS_AGENT_PROBE_KEEP_RUNS
(500) runs kept per probe; TRADEOPS_EGRESS_ALLOW (all but link-local) where probe URLs may lead
(runtime/egress.py), checked at PutProbe and on every resolved address before each run."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from runtime.egress import DEFAULT, EgressPolicy
from runtime.settings import SettingsError, egress_policy


@dataclass(frozen=True)
class Settings:
    poll_s: float = 1.0
    batch: int = 20
    keep_runs: int = 500
    egress: EgressPolicy = DEFAULT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        settings = cls(
            poll_s=float(env.get("TRADEOPS_AGENT_PROBE_POLL_S", "1")),
            batch=int(env.get("TRADEOPS_AGENT_PROBE_BATCH", "20")),
            keep_runs=int(env.get("TRADEOPS_AGENT_PROBE_KEEP_RUNS", "500")),
            egress=egress_policy(env),
        )
        if settings.poll_s <= 0 or settings.batch < 1 or settings.keep_runs < 1:
            raise SettingsError(
                "TRADEOPS_AGENT_PROBE_POLL_S, _BATCH and _KEEP_RUNS must be positive"
            )
        return settings
