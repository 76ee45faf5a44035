"""The wiring G1's __main__ merges: settings from the environment, servicer, RBAC, worker."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from runtime.db import Database
from runtime.settings import AuthSettings, ServiceSettings
from services.agent.__main__ import compliance_spec
from services.agent.compliance import Peers
from services.agent.compliance.settings import Settings
from tests.keys import settings_for


def test_settings_default_to_a_fifteen_minute_schedule_and_no_language_model() -> None:
    settings = Settings.from_env({})

    assert settings.schedule.interval_s == 900
    assert settings.limits.export_verify_within == timedelta(hours=24)
    assert settings.summaries.llm is None
    assert str(settings.summaries.hours) == "07:00-19:00 Europe/London, Monday to Friday"


def test_desk_hours_and_time_zone_come_from_the_environment() -> None:
    env = {
        "TRADEOPS_AGENT_DESK_HOURS": "08:30-17:00",
        "TRADEOPS_AGENT_DESK_TIME_ZONE": "Asia/Tokyo",
    }

    hours = Settings.from_env(env).summaries.hours

    assert (hours.start, hours.end, hours.zone) == (time(8, 30), time(17), "Asia/Tokyo")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        Settings.from_env({"TRADEOPS_AGENT_DESK_TIME_ZONE": "Mars/Olympus"})


async def test_the_spec_serves_compliance_with_its_rbac_and_scheduler(
    agent_db: Database, auth_settings: AuthSettings
) -> None:
    settings = ServiceSettings(
        name="agent",
        database_url="postgresql://unused",
        listen="127.0.0.1:0",
        peers={"ops": "127.0.0.1:9", "audit": "127.0.0.1:9", "export": "127.0.0.1:9"},
        auth=settings_for("agent", auth_settings),
        rpc_timeout_s=5,
        export_dir=Path("."),
        outbox_poll_s=1,
    )

    options = Settings.from_env({})
    spec = compliance_spec(
        settings,
        agent_db,
        Peers.open(settings.peers, settings.rpc_timeout_s),
        options,
        wake=lambda: None,
    )

    assert spec.service_names == ["tradeops.agent.v1.ComplianceService"]
    assert len(spec.rbac) == 8
    assert all(name.startswith("/tradeops.agent.v1.ComplianceService/") for name in spec.rbac)
    assert len(spec.workers) == 1
