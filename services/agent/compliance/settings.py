"""Compliance and summary settings from environment variables (defaults in parentheses):
TRADEOPS_AGENT_COMPLIANCE_INTERVAL_S (900) how often the scheduled run is due;
TRADEOPS_AGENT_COMPLIANCE_POLL_S (30) how often a replica looks for a due run;
TRADEOPS_AGENT_EXPORT_VERIFY_WITHIN_S (86400) the export verification deadline after delivery;
TRADEOPS_AGENT_ESCALATION_GRACE_S (300) slack granted to ops' timers before a deadline counts
as missed; TRADEOPS_AGENT_DESK_HOURS ("07:00-19:00") and TRADEOPS_AGENT_DESK_TIME_ZONE
("Europe/London") for after-hours activity; TRADEOPS_AGENT_LLM_URL (unset: narration off),
TRADEOPS_AGENT_LLM_MODEL ("gpt-4o-mini"), TRADEOPS_AGENT_LLM_KEY_FILE (a file holding the
endpoint's bearer key, optional). The LLM URL follows the egress policy (TRADEOPS_EGRESS_ALLOW,
runtime/egress.py): checked at start and on the resolved addresses before each request."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from runtime.egress import DEFAULT, EgressPolicy, Refused
from runtime.settings import SettingsError, egress_policy
from services.agent.compliance.domain.checks import Limits
from services.agent.compliance.domain.hours import DeskHours
from services.agent.compliance.domain.schedules import Schedule
from services.agent.compliance.domain.spikes import SpikeRule


@dataclass(frozen=True)
class LlmSettings:
    url: str
    model: str
    key: str = field(default="", repr=False)
    timeout_s: float = 30.0
    egress: EgressPolicy = DEFAULT

    @classmethod
    def from_env(cls, env: dict[str, str]) -> LlmSettings | None:
        url = env.get("TRADEOPS_AGENT_LLM_URL", "")
        if not url:
            return None
        key_file = env.get("TRADEOPS_AGENT_LLM_KEY_FILE", "")
        key = Path(key_file).read_text().strip() if key_file else ""
        egress = egress_policy(env)
        try:
            egress.check_url(url)
        except Refused as exc:
            raise SettingsError(f"TRADEOPS_AGENT_LLM_URL: {exc}") from None
        return cls(url, env.get("TRADEOPS_AGENT_LLM_MODEL", "gpt-4o-mini"), key, egress=egress)

    @property
    def endpoint(self) -> str:
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/v1/chat/completions"


@dataclass(frozen=True)
class SummaryConfig:
    hours: DeskHours = field(default_factory=DeskHours)
    spikes: SpikeRule = field(default_factory=SpikeRule)
    llm: LlmSettings | None = None


@dataclass(frozen=True)
class Settings:
    schedule: Schedule
    poll_s: float
    limits: Limits
    summaries: SummaryConfig

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        hours = DeskHours.parse(
            env.get("TRADEOPS_AGENT_DESK_HOURS", "07:00-19:00"),
            env.get("TRADEOPS_AGENT_DESK_TIME_ZONE", "Europe/London"),
        )
        return cls(
            schedule=Schedule(
                interval_s=int(env.get("TRADEOPS_AGENT_COMPLIANCE_INTERVAL_S", "900"))
            ),
            poll_s=float(env.get("TRADEOPS_AGENT_COMPLIANCE_POLL_S", "30")),
            limits=Limits(
                export_verify_within=_seconds(env, "TRADEOPS_AGENT_EXPORT_VERIFY_WITHIN_S", 86400),
                escalation_grace=_seconds(env, "TRADEOPS_AGENT_ESCALATION_GRACE_S", 300),
            ),
            summaries=SummaryConfig(hours=hours, llm=LlmSettings.from_env(env)),
        )


def _seconds(env: Mapping[str, str], name: str, default: int) -> timedelta:
    return timedelta(seconds=int(env.get(name, str(default))))
