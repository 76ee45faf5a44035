"""Scheduled probes: the agent process's ProbeService. Admins define probes; everyone sees
them, their last result, next run and run history."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from gateway.bodies.probes import ProbeBody, ProbeLimit
from gateway.deps import Json, RpcDep, as_json
from gateway.guard import GuardedRoute
from gateway.rest_schema import json_of
from tradeops.agent.v1 import probe_service_pb2 as pb

router = APIRouter(prefix="/probes", tags=["probes"], route_class=GuardedRoute)


@router.get("", response_model=json_of(pb.ListProbesResponse))
async def list_probes(rpc: RpcDep, query: Annotated[ProbeLimit, Query()]) -> Json:
    """Probes by name, each with its last run and next run."""
    reply = await rpc.peers.probes.ListProbes(
        pb.ListProbesRequest(limit=query.limit), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)


@router.post("", status_code=201, response_model=json_of(pb.Probe))
async def put_probe(body: ProbeBody, rpc: RpcDep) -> Json:
    """Creates the probe named in the body, or changes it (a new version, the old one kept)."""
    probe = await rpc.peers.probes.PutProbe(
        body.to_message(), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(probe)


@router.get("/{probe_id}", response_model=json_of(pb.Probe))
async def get_probe(probe_id: UUID, rpc: RpcDep) -> Json:
    """One probe with its last run, next run and every kept version."""
    probe = await rpc.peers.probes.GetProbe(
        pb.GetProbeRequest(id=str(probe_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(probe)


@router.put("/{probe_id}", response_model=json_of(pb.Probe))
async def change_probe(probe_id: UUID, body: ProbeBody, rpc: RpcDep) -> Json:
    """Changes this probe (its name is fixed): a new version, the old one kept."""
    probe = await rpc.peers.probes.PutProbe(
        body.to_message(str(probe_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(probe)


@router.post("/{probe_id}/disable", response_model=json_of(pb.Probe))
async def disable_probe(probe_id: UUID, rpc: RpcDep) -> Json:
    """Stops the probe (a new, disabled version); PUT or POST the definition to enable it."""
    probe = await rpc.peers.probes.DisableProbe(
        pb.DisableProbeRequest(id=str(probe_id)), timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(probe)


@router.get("/{probe_id}/runs", response_model=json_of(pb.ListProbeRunsResponse))
async def list_probe_runs(
    probe_id: UUID, rpc: RpcDep, query: Annotated[ProbeLimit, Query()]
) -> Json:
    """The probe's kept runs, newest first."""
    request = pb.ListProbeRunsRequest(probe_id=str(probe_id), limit=query.limit)
    reply = await rpc.peers.probes.ListProbeRuns(
        request, timeout=rpc.timeout, metadata=rpc.metadata
    )
    return as_json(reply)
