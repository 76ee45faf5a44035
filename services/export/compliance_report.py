"""compliance_checks: the agent's compliance check results (ComplianceService, served by the
agent process), read with the caller's token.

Parameters, all optional: run_id (one run's results, GetRun), check_id and status ("pass",
"fail", "error"); since/until bound the results' checked_at. Rows come newest first, as the
contract lists them. The contract has no paging yet: without run_id, ListResults answers at
most its 500 newest matching results, so an export whose window reaches past them is refused
(INVALID_ARGUMENT: narrow the window or name a run) rather than silently cut short."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from datetime import UTC
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from runtime.auth import Principal
from runtime.clients import bearer
from runtime.errors import InvalidArgument, NotFound
from services.export.domain import Export
from services.export.peer_errors import domain_error
from tradeops.agent.v1 import compliance_service_pb2 as pb
from tradeops.agent.v1 import compliance_service_pb2_grpc as pb_grpc

COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "id", "run_id", "check_id", "check_version", "description", "status", "examined", "detail",
    "incident_id", "checked_at", "evidence",
)  # fmt: skip
MAX_RESULTS = 500  # ListResults' cap
PEER = "the agent's compliance service"


class GrpcComplianceResults:
    def __init__(self, stub: pb_grpc.ComplianceServiceAsyncStub, *, timeout_s: float) -> None:
        self._stub, self._timeout_s = stub, timeout_s

    async def check_run(self, run_id: str, caller: Principal) -> None:
        """NotFound for an unknown run."""
        await self._run(run_id, caller)

    async def results(
        self, export: Export, caller: Principal
    ) -> AsyncGenerator[Mapping[str, Any], None]:
        wanted = {
            k: str(export.parameters[k]) for k in ("check_id", "status") if k in export.parameters
        }
        if "run_id" in export.parameters:
            found: Sequence[pb.CheckResult] = (
                await self._run(str(export.parameters["run_id"]), caller)
            ).results
        else:
            found = await self._listed(export, wanted, caller)
        for result in found:
            if _inside(export, result) and all(getattr(result, k) == v for k, v in wanted.items()):
                yield _dict(result)

    async def _listed(
        self, export: Export, wanted: Mapping[str, str], caller: Principal
    ) -> Sequence[pb.CheckResult]:
        request = pb.ListResultsRequest(limit=MAX_RESULTS, **wanted)
        listed: pb.ListResultsResponse = await self._call(self._stub.ListResults, request, caller)
        found = listed.results
        if len(found) >= MAX_RESULTS and _reaches_past(export, found[-1]):
            raise InvalidArgument(
                f"more than {MAX_RESULTS} compliance results match and the agent's contract has"
                " no paging yet: narrow since/until or name a run_id"
            )
        return found

    async def _run(self, run_id: str, caller: Principal) -> pb.ComplianceRun:
        try:
            run: pb.ComplianceRun = await self._call(
                self._stub.GetRun, pb.GetRunRequest(id=run_id), caller
            )
        except NotFound:
            raise NotFound(f"no compliance run {run_id!r}") from None
        return run

    async def _call(self, method: Any, request: Message, caller: Principal) -> Any:
        try:
            return await method(request, timeout=self._timeout_s, metadata=bearer(caller.token))
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.NOT_FOUND:
                raise NotFound(f"{PEER}: {exc.details()}") from None
            raise domain_error(exc, PEER) from None


def _inside(export: Export, result: pb.CheckResult) -> bool:
    at = result.checked_at.ToDatetime(tzinfo=UTC)
    return (export.since is None or at >= export.since) and (
        export.until is None or at < export.until
    )


def _reaches_past(export: Export, oldest: pb.CheckResult) -> bool:
    """Whether results older than the oldest listed could still fall inside the window."""
    return export.since is None or oldest.checked_at.ToDatetime(tzinfo=UTC) > export.since


def _dict(message: Message) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True)
