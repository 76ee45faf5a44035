"""compliance_checks: the agent's compliance check results (ComplianceService, served by the
agent process), read with the caller's token.

Parameters, all optional: run_id (one run's results, GetRun), check_id and status ("pass",
"fail", "error"); since/until bound the results' checked_at. Rows come newest first, as the
contract lists them. Without run_id, ListResults is read a page at a time (so memory holds one
page) until its last page, or until a page reaches results older than `since`."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from datetime import UTC
from typing import Any

from google.protobuf.message import Message

from runtime.auth import Principal
from services.export.clients.peers import call_peer, message_dict
from services.export.domain.exports import Export
from tradeops.agent.v1 import compliance_service_pb2 as pb
from tradeops.agent.v1 import compliance_service_pb2_grpc as pb_grpc
from tradeops.common.v1 import common_pb2

COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "id", "run_id", "check_id", "check_version", "description", "status", "examined", "detail",
    "incident_id", "checked_at", "evidence",
)  # fmt: skip
PAGE_SIZE = 500  # ListResults' cap
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
            found = _each((await self._run(str(export.parameters["run_id"]), caller)).results)
        else:
            found = self._listed(export, wanted, caller)
        async for result in found:
            if _inside(export, result) and all(getattr(result, k) == v for k, v in wanted.items()):
                yield message_dict(result)

    async def _listed(
        self, export: Export, wanted: Mapping[str, str], caller: Principal
    ) -> AsyncGenerator[pb.CheckResult, None]:
        """Every page, newest first, stopping once a page reaches past the window's start."""
        token = ""
        while True:
            request = _page_request(wanted, token)
            listed: pb.ListResultsResponse = await self._call(
                self._stub.ListResults, request, caller
            )
            for result in listed.results:
                yield result
            token = listed.next_page_token
            if not (token and listed.results and _reaches_past(export, listed.results[-1])):
                return

    async def _run(self, run_id: str, caller: Principal) -> pb.ComplianceRun:
        run: pb.ComplianceRun = await self._call(
            self._stub.GetRun,
            pb.GetRunRequest(id=run_id),
            caller,
            lambda _: f"no compliance run {run_id!r}",
        )
        return run

    async def _call(
        self,
        method: Any,
        request: Message,
        caller: Principal,
        not_found: Callable[[str], str] = lambda details: f"{PEER}: {details}",
    ) -> Any:
        return await call_peer(
            method,
            request,
            caller=caller,
            timeout_s=self._timeout_s,
            peer=PEER,
            not_found=not_found,
        )


def _page_request(wanted: Mapping[str, str], token: str) -> pb.ListResultsRequest:
    return pb.ListResultsRequest(
        check_id=wanted.get("check_id", ""),
        status=wanted.get("status", ""),
        page=common_pb2.PageRequest(page_size=PAGE_SIZE, page_token=token),
    )


def _inside(export: Export, result: pb.CheckResult) -> bool:
    at = result.checked_at.ToDatetime(tzinfo=UTC)
    return (export.since is None or at >= export.since) and (
        export.until is None or at < export.until
    )


def _reaches_past(export: Export, oldest: pb.CheckResult) -> bool:
    """Whether the next page could still hold results inside the window (ties included)."""
    return export.since is None or oldest.checked_at.ToDatetime(tzinfo=UTC) >= export.since


async def _each(results: Iterable[pb.CheckResult]) -> AsyncGenerator[pb.CheckResult, None]:
    for result in results:
        yield result
