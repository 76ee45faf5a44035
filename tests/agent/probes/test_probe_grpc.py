"""ProbeService over gRPC: admins change probes, everyone reads them; a refused change is
audited and stores nothing; the list shows each probe's last result and next run."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import grpc
import httpx
import pytest

from runtime.clients import bearer
from runtime.db import Database
from services.agent.probes.grpc_api.messages import definition
from services.agent.probes.workers.probes import ProbeWorker
from tests.agent.probes.desk import Desk
from tests.agent.probes.helpers import Clock, events, latency_probe
from tests.agent.probes.test_definitions import UNKNOWN_ID
from tradeops.agent.v1 import probe_service_pb2 as pb
from tradeops.agent.v1 import probe_service_pb2_grpc as pb_grpc

if TYPE_CHECKING:  # the async stub type exists in the .pyi only
    Stub = pb_grpc.ProbeServiceAsyncStub
Token = Callable[..., str]


async def code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value.code()


def request(url: str, **changes: object) -> pb.PutProbeRequest:
    return pb.PutProbeRequest(definition=definition(latency_probe(url, **changes)))


@pytest.mark.parametrize("role", ["viewer", "trader", "ops", "compliance"])
async def test_only_an_admin_may_change_probes_and_every_refusal_is_audited(
    probes: Stub, agent_db: Database, token_for: Token, role: str
) -> None:
    caller = bearer(token_for("mallory", role))
    put = probes.PutProbe(request("http://127.0.0.1:9"), metadata=caller, timeout=5)
    disable = probes.DisableProbe(pb.DisableProbeRequest(id=UNKNOWN_ID), metadata=caller, timeout=5)

    assert await code_of(put) == grpc.StatusCode.PERMISSION_DENIED
    assert await code_of(disable) == grpc.StatusCode.PERMISSION_DENIED
    listed = await probes.ListProbes(pb.ListProbesRequest(), metadata=caller, timeout=5)
    assert list(listed.probes) == []
    denied = await events(agent_db, "agent.access.denied")
    assert sorted(e["payload"]["method"].rsplit("/", 1)[1] for e in denied) == [
        "DisableProbe",
        "PutProbe",
    ]
    assert {e["actor"]["subject"] for e in denied} == {"mallory"}
    assert {e["outcome"] for e in denied} == {"denied"}


async def test_an_admin_defines_changes_and_disables_a_probe_and_reads_its_versions(
    probes: Stub, token_for: Token
) -> None:
    admin = bearer(token_for("ada", "admin"))
    viewer = bearer(token_for("vic", "viewer"))
    created = await probes.PutProbe(request("http://127.0.0.1:9"), metadata=admin, timeout=5)
    change = request("http://127.0.0.1:9", interval_s=120)
    change.id = created.id
    changed = await probes.PutProbe(change, metadata=admin, timeout=5)
    disabled = await probes.DisableProbe(
        pb.DisableProbeRequest(id=created.id), metadata=admin, timeout=5
    )
    found = await probes.GetProbe(pb.GetProbeRequest(id=created.id), metadata=viewer, timeout=5)

    assert (created.version, changed.version, disabled.version) == (1, 2, 3)
    assert not found.enabled
    assert found.changed_by == "ada"
    assert [(v.version, v.change) for v in found.versions] == [
        (3, "disabled"),
        (2, "changed"),
        (1, "created"),
    ]
    assert found.versions[2].definition.interval_s == 30
    assert found.definition.interval_s == 120
    assert found.definition.json.path == "$.lag_ms"
    assert found.definition.threshold.op == ">"


async def test_a_bad_definition_is_an_invalid_argument(probes: Stub, token_for: Token) -> None:
    admin = bearer(token_for("ada", "admin"))
    no_rule = request("http://127.0.0.1:9")
    no_rule.definition.ClearField("threshold")
    bad_kind = request("http://127.0.0.1:9")
    bad_kind.definition.incident.kind = "outage"

    assert await code_of(probes.PutProbe(no_rule, metadata=admin, timeout=5)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    assert await code_of(probes.PutProbe(bad_kind, metadata=admin, timeout=5)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    unknown = probes.GetProbe(pb.GetProbeRequest(id=UNKNOWN_ID), metadata=admin, timeout=5)
    assert await code_of(unknown) == grpc.StatusCode.NOT_FOUND


async def test_the_list_shows_last_result_and_next_run_and_runs_are_listed(
    probes: Stub,
    agent_db: Database,
    desk: Desk,
    http: httpx.AsyncClient,
    clock: Clock,
    token_for: Token,
) -> None:
    admin = bearer(token_for("ada", "admin"))
    viewer = bearer(token_for("vic", "viewer"))
    created = await probes.PutProbe(request(desk.url), metadata=admin, timeout=5)
    desk.flip(body='{"lag_ms": 900}')
    await ProbeWorker(agent_db, clock=clock).run_once(http)

    [listed] = (await probes.ListProbes(pb.ListProbesRequest(), metadata=viewer, timeout=5)).probes
    runs = await probes.ListProbeRuns(
        pb.ListProbeRunsRequest(probe_id=created.id), metadata=viewer, timeout=5
    )

    assert listed.last_run.status == "failing"
    assert listed.last_run.value == 900
    assert listed.last_run.incident_step == "opened"
    assert listed.open_incident_id == listed.last_run.incident_id
    assert listed.next_run_at.ToDatetime().timestamp() == clock.now.timestamp() + 30
    assert [r.id for r in runs.runs] == [listed.last_run.id]
    assert runs.runs[0].probe_name == "md-latency"
    assert runs.runs[0].version == 1
