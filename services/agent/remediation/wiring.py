"""How the agent process serves remediation: `remediation_spec(...)` gives the RemediationService
servicer, its RBAC table and the execution worker as one ServiceSpec, for __main__ to merge with
AgentService's. Environment:

- TRADEOPS_AGENT_EXECUTORS: executors and routes (executors/config.py); unset: none, and
  approved actions wait for a person to run them.
- TRADEOPS_AGENT_EXECUTION_POLL_S (default 2): seconds between worker passes.
- TRADEOPS_AGENT_EXECUTION_STALE_S (default 300): an EXECUTING action with no result for this
  long (at least twice the longest executor budget) is declared OUTCOME_UNKNOWN.

`merge(agent_spec, remediation_spec(...), ...)` serves several gRPC services from one process."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import grpc

from runtime.auth import ServiceIdentity
from runtime.db import Database
from runtime.grpc_server import ServiceSpec
from runtime.settings import ServiceSettings
from services.agent.remediation.executors.config import from_env
from services.agent.remediation.grpc_api import spec
from services.agent.remediation.library import load_library
from services.agent.remediation.ops_link import OpsLink
from services.agent.remediation.worker import ExecutionWorker
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc


def remediation_spec(
    settings: ServiceSettings,
    db: Database,
    ops: ops_grpc.OpsServiceAsyncStub,
    identity: ServiceIdentity,
    *,
    wake: Callable[[], None],
    env: Mapping[str, str] | None = None,
) -> ServiceSpec:
    env = os.environ if env is None else env
    link = OpsLink(ops, identity, settings.rpc_timeout_s)
    worker = ExecutionWorker(
        db,
        link,
        from_env(env),
        poll_s=float(env.get("TRADEOPS_AGENT_EXECUTION_POLL_S", "2")),
        stale_after_s=float(env.get("TRADEOPS_AGENT_EXECUTION_STALE_S", "300")),
        wake=wake,
    )
    return spec(db, link, load_library(), wake=wake, workers=[worker.run])


def merge(*specs: ServiceSpec) -> ServiceSpec:
    """One ServiceSpec serving every given service: their servicers, the union of their RBAC
    tables (a method belongs to one service, so nothing is overridden) and all their workers."""

    def register(server: grpc.aio.Server) -> None:
        for each in specs:
            each.register(server)

    return ServiceSpec(
        register=register,
        service_names=[name for each in specs for name in each.service_names],
        rbac={method: roles for each in specs for method, roles in each.rbac.items()},
        workers=[worker for each in specs for worker in each.workers],
    )
