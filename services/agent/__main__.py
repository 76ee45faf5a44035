"""Wiring for `python -m services.agent`: the outbox relay to audit and the five contexts'
servicers with their workers, merged into one ServiceSpec (one server, the union of the RBAC
tables). Each context's own environment is read once here, by its settings.Settings.from_env."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec, merge
from runtime.idempotency import Idempotent
from runtime.outbox import refusal_recorder
from runtime.outbox_gauges import OutboxGauges
from runtime.relay import OutboxRelay
from runtime.service_main import run_service
from runtime.settings import ServiceSettings
from runtime.tokens import ServiceIdentity
from services.agent.compliance.clients.peers import GrpcSources, Peers
from services.agent.compliance.grpc_api import servicer as compliance_api
from services.agent.compliance.settings import Settings as ComplianceSettings
from services.agent.compliance.workers.scheduler import run_forever as run_schedules
from services.agent.probes.domain.probes import Probe
from services.agent.probes.grpc_api import servicer as probe_api
from services.agent.probes.service.events import caller as probe_caller
from services.agent.probes.settings import Settings as ProbeSettings
from services.agent.probes.workers.probes import OnOpened, ProbeWorker, WorkerOptions
from services.agent.remediation.clients.executors import load
from services.agent.remediation.clients.ops import OpsLink
from services.agent.remediation.domain.playbooks import load_library
from services.agent.remediation.grpc_api import servicer as remediation_api
from services.agent.remediation.settings import Settings as RemediationSettings
from services.agent.remediation.workers.executions import ExecutionWorker
from services.agent.tables import idempotency_keys, outbox
from services.agent.triage import Agent, Windows, triage_incident
from services.agent.triage.clients.ops import OpsProposer
from services.agent.triage.grpc_api.servicer import spec
from services.agent.triage.service.agent import utc_now
from services.agent.triage.service.rulebook import RuleBook
from services.agent.triage.settings import Settings as TriageSettings
from services.agent.triage.workers.proposals import retry_forever
from services.agent.workflows.grpc_api import servicer as trigger_api
from services.agent.workflows.settings import Settings as TriggerSettings
from services.agent.workflows.workers.triggers import trigger_worker
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

Wake = Callable[[], None]

# The RPCs that create something: a retry with the same Idempotency-Key creates nothing twice.
KEYED = frozenset(
    {
        "/tradeops.agent.v1.AgentService/CreateIncident",
        "/tradeops.agent.v1.AgentService/TriageIncident",
        "/tradeops.agent.v1.AgentService/TriageBatch",
        "/tradeops.agent.v1.AgentService/RecordFeedback",
        "/tradeops.agent.v1.AgentService/PutRuleSet",
        "/tradeops.agent.v1.RemediationService/PlanRemediation",
        "/tradeops.agent.v1.ComplianceService/RunChecks",
        "/tradeops.agent.v1.ComplianceService/SummariseAudit",
        "/tradeops.agent.v1.ProbeService/PutProbe",
        "/tradeops.agent.v1.TriggerService/PutTrigger",
    }
)


def build(settings: ServiceSettings, db: Database) -> ServiceSpec:
    identity = ServiceIdentity(settings.auth, "agent")
    audit = audit_grpc.AuditServiceStub(open_channel(settings.peers["audit"], "audit"))
    relay = OutboxRelay(
        db, outbox, audit, identity, poll_s=settings.outbox_poll_s, timeout_s=settings.rpc_timeout_s
    )
    ops = ops_grpc.OpsServiceStub(open_channel(settings.peers["ops"], "ops"))
    proposer = OpsProposer(ops, identity, settings.rpc_timeout_s)
    triage_settings = TriageSettings.from_env()
    proposal_retry = functools.partial(
        retry_forever, db, proposer, triage_settings.proposal_retry_s
    )
    windows = Windows(triage_settings.dedup_window, triage_settings.correlation_window)
    agent = Agent(db, proposer, RuleBook.shipped(utc_now), windows)
    triage = spec(agent, wake=relay.wake, workers=[relay.run, proposal_retry])
    remediation = remediation_spec(
        settings, db, ops, identity, RemediationSettings.from_env(), wake=relay.wake
    )
    peers = Peers.open(settings.peers, settings.rpc_timeout_s)
    compliance_settings = ComplianceSettings.from_env()
    compliance = compliance_spec(settings, db, peers, compliance_settings, wake=relay.wake)
    probes = probes_spec(db, ProbeSettings.from_env(), windows, agent, wake=relay.wake)
    options = TriggerSettings.from_env()
    triggers = trigger_spec(settings, db, peers, options, compliance_settings, wake=relay.wake)
    merged = merge(triage, remediation, compliance, probes, triggers)
    return dataclasses.replace(
        merged,
        workers=[*merged.workers, OutboxGauges(db, outbox, "agent").run],
        on_refused=refusal_recorder(db, outbox, "agent", relay.wake, settings.refusals),
        idempotent=Idempotent(db, idempotency_keys, KEYED),
    )


def compliance_spec(
    settings: ServiceSettings,
    db: Database,
    peers: Peers,
    options: ComplianceSettings,
    *,
    wake: Wake,
) -> ServiceSpec:
    """ComplianceService with its scheduler worker; a scheduled run reads the peers as the
    agent itself, an on-demand run as its caller."""
    identity = ServiceIdentity(settings.auth, "agent")
    scheduled = functools.partial(
        run_schedules,
        db,
        lambda: GrpcSources(peers, identity.token("ops", "export", "audit")),
        utc_now,
        limits=options.limits,
        schedule=options.schedule,
        poll_s=options.poll_s,
        wake=wake,
    )
    limits, config = options.limits, options.summaries
    return compliance_api.spec(
        db, peers, limits=limits, config=config, clock=utc_now, wake=wake, workers=[scheduled]
    )


def remediation_spec(
    settings: ServiceSettings,
    db: Database,
    ops: ops_grpc.OpsServiceAsyncStub,
    identity: ServiceIdentity,
    options: RemediationSettings,
    *,
    wake: Wake,
) -> ServiceSpec:
    """RemediationService with its execution worker, both calling ops through one OpsLink (on
    the ops stub the proposer shares); with no executor configured the worker only sleeps."""
    link = OpsLink(ops, identity, settings.rpc_timeout_s)
    worker = ExecutionWorker(
        db,
        link,
        load(options.executors, options.egress),
        poll_s=options.poll_s,
        stale_after_s=options.stale_after_s,
        wake=wake,
    )
    return remediation_api.spec(db, link, load_library(), wake=wake, workers=[worker.run])


def probes_spec(
    db: Database, settings: ProbeSettings, windows: Windows, agent: Agent, *, wake: Wake
) -> ServiceSpec:
    """ProbeService with its worker; an incident a probe opens is triaged by `agent` as the
    probe, for the admin who last changed it (Probe.requester), so it is handled like any other."""
    options = WorkerOptions(
        poll_s=settings.poll_s,
        batch=settings.batch,
        keep_runs=settings.keep_runs,
        windows=windows,
        egress=settings.egress,
    )
    worker = ProbeWorker(db, options, wake=wake, on_opened=triage_as_probe(agent))
    return probe_api.spec(db, wake=wake, workers=[worker.run], egress=settings.egress)


def triage_as_probe(agent: Agent) -> OnOpened:
    async def triage(incident_id: str, probe: Probe) -> None:
        who = probe_caller(probe.spec, probe.version)
        by = probe.requester  # never the probe: its author cannot approve what it proposes
        await triage_incident(agent, incident_id=incident_id, caller=who, requested_by=by)

    return triage


def trigger_spec(
    settings: ServiceSettings,
    db: Database,
    peers: Peers,
    options: TriggerSettings,
    compliance: ComplianceSettings,
    *,
    wake: Wake,
) -> ServiceSpec:
    """TriggerService with its worker; a rule change wakes the worker at once."""
    timeout_s, limits = settings.rpc_timeout_s, compliance.limits
    worker = trigger_worker(
        db,
        peers,
        options,
        limits,
        auth=settings.auth,
        timeout_s=timeout_s,
        clock=utc_now,
        wake=wake,
    )

    def woken() -> None:
        wake()
        worker.nudge()

    workers = [worker.run_forever]
    return trigger_api.spec(
        db, webhooks=list(options.webhooks), clock=utc_now, wake=woken, workers=workers
    )


if __name__ == "__main__":
    run_service("agent", build)
