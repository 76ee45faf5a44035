"""Wiring for `python -m services.agent`: the rule set, the ops client, the outbox relay to
audit, the proposal retry worker and the servicer."""

from __future__ import annotations

import functools

from runtime.auth import ServiceIdentity
from runtime.clients import open_channel
from runtime.db import Database
from runtime.grpc_server import ServiceSpec
from runtime.relay import OutboxRelay
from runtime.service_main import run_service
from runtime.settings import ServiceSettings
from services.agent.grpc_api import spec
from services.agent.ops_client import OpsProposer
from services.agent.proposals import retry_forever
from services.agent.ruleset import load_rule_set
from services.agent.tables import outbox
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

PROPOSAL_RETRY_S = 5.0


def build(settings: ServiceSettings, db: Database) -> ServiceSpec:
    rules = load_rule_set()
    identity = ServiceIdentity(settings.auth, "agent")
    audit = audit_grpc.AuditServiceStub(open_channel(settings.peers["audit"]))
    relay = OutboxRelay(
        db, outbox, audit, identity, poll_s=settings.outbox_poll_s, timeout_s=settings.rpc_timeout_s
    )
    ops = ops_grpc.OpsServiceStub(open_channel(settings.peers["ops"]))
    proposer = OpsProposer(ops, identity, settings.rpc_timeout_s)
    proposal_retry = functools.partial(retry_forever, db, proposer, PROPOSAL_RETRY_S)
    return spec(db, proposer, rules, wake=relay.wake, workers=[relay.run, proposal_retry])


if __name__ == "__main__":
    run_service("agent", build)
