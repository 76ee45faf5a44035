"""How the agent process serves ProbeService and runs the probe worker; see WIRING.md.

Environment (defaults in brackets): TRADEOPS_AGENT_PROBE_POLL_S [1] seconds between a
replica's passes; TRADEOPS_AGENT_PROBE_BATCH [20] probes claimed per pass (their requests run
concurrently); TRADEOPS_AGENT_PROBE_KEEP_RUNS [500] runs kept per probe; TRADEOPS_EGRESS_ALLOW
[all but link-local] where probe URLs may lead (runtime/egress.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from runtime.db import Database
from runtime.grpc_server import ServiceSpec
from runtime.settings import egress_policy
from services.agent.probes import grpc_api
from services.agent.probes.events import caller
from services.agent.probes.model import Probe
from services.agent.probes.worker import OnOpened, ProbeWorker, WorkerOptions, _nothing
from services.agent.triage.domain.intake import Windows
from services.agent.triage.service.agent import DEFAULT_WINDOWS, Agent
from services.agent.triage.service.triage import triage_incident


def options_from(env: Mapping[str, str], windows: Windows) -> WorkerOptions:
    options = WorkerOptions(
        poll_s=float(env.get("TRADEOPS_AGENT_PROBE_POLL_S", "1")),
        batch=int(env.get("TRADEOPS_AGENT_PROBE_BATCH", "20")),
        keep_runs=int(env.get("TRADEOPS_AGENT_PROBE_KEEP_RUNS", "500")),
        windows=windows,
        egress=egress_policy(env),
    )
    if options.poll_s <= 0 or options.batch < 1 or options.keep_runs < 1:
        raise ValueError("TRADEOPS_AGENT_PROBE_POLL_S, _BATCH and _KEEP_RUNS must be positive")
    return options


def probes_spec(
    db: Database,
    *,
    wake: Callable[[], None],
    windows: Windows = DEFAULT_WINDOWS,
    on_opened: OnOpened = _nothing,
    env: Mapping[str, str] | None = None,
) -> ServiceSpec:
    """ProbeService with its worker; merge it into the agent's ServiceSpec. `on_opened` runs
    after a probe opened an incident (the agent's triage, so it is handled like any other)."""
    options = options_from(os.environ if env is None else env, windows)
    worker = ProbeWorker(db, options, wake=wake, on_opened=on_opened)
    return grpc_api.spec(db, wake=wake, workers=[worker.run], egress=options.egress)


def triage_with(agent: Agent) -> OnOpened:
    """Triages a probe's new incident as the probe (requested_by "probe:<name>@v<n>")."""

    async def triage(incident_id: str, probe: Probe) -> None:
        who = caller(probe.spec, probe.version)
        await triage_incident(agent, incident_id=incident_id, caller=who)

    return triage
