"""Triage settings from environment variables (defaults in parentheses):
TRADEOPS_AGENT_DEDUP_WINDOW_S (600) how long a repeat report is folded onto an open incident;
TRADEOPS_AGENT_CORRELATION_WINDOW_S (600) how far back a new incident looks for one to
correlate with; TRADEOPS_AGENT_PROPOSAL_RETRY_S (5) the period of the proposal_retry worker."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Settings:
    dedup_window: timedelta = timedelta(seconds=600)
    correlation_window: timedelta = timedelta(seconds=600)
    proposal_retry_s: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            dedup_window=_seconds(env, "TRADEOPS_AGENT_DEDUP_WINDOW_S", "600"),
            correlation_window=_seconds(env, "TRADEOPS_AGENT_CORRELATION_WINDOW_S", "600"),
            proposal_retry_s=float(env.get("TRADEOPS_AGENT_PROPOSAL_RETRY_S", "5")),
        )


def _seconds(env: Mapping[str, str], name: str, default: str) -> timedelta:
    return timedelta(seconds=float(env.get(name, default)))
