"""What each peer reader makes of a peer's refusal: which codes become NotFound, with which
message, and that the caller's token and the timeout go with every call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from runtime.auth import Principal
from runtime.errors import DomainError, InvalidArgument, NotFound, Unavailable
from services.export.clients.audit import GrpcAuditReader
from services.export.clients.compliance import GrpcComplianceResults
from services.export.clients.evidence import GrpcEvidence
from services.export.clients.reports import GrpcReports
from services.export.domain.exports import Export, ExportState

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CALLER = Principal("alice", frozenset({"auditor"}), token="tok-1")


class Refusing:
    """A stub whose every method refuses with `code`, noting how it was called."""

    def __init__(self, code: grpc.StatusCode) -> None:
        self.code, self.calls = code, list[dict[str, Any]]()

    def __getattr__(self, name: str) -> Any:
        async def method(request: Any, **kwargs: Any) -> Any:
            self.calls.append(kwargs)
            raise grpc.aio.AioRpcError(
                self.code, grpc.aio.Metadata(), grpc.aio.Metadata(), "gone", None
            )

        return method


def evidence(stub: Any) -> GrpcEvidence:
    reports = GrpcReports(stub, stub, timeout_s=2.0)
    audit = GrpcAuditReader(stub, timeout_s=2.0, stream_timeout_s=9.0)
    return GrpcEvidence(stub, stub, audit, reports, timeout_s=2.0)


async def refusal(call: Any) -> DomainError:
    with pytest.raises(DomainError) as raised:
        await call
    return raised.value


async def test_an_unknown_action_names_the_action() -> None:
    stub = Refusing(grpc.StatusCode.NOT_FOUND)
    error = await refusal(evidence(stub).action("a1", CALLER))
    assert type(error) is NotFound
    assert str(error) == "no ops action 'a1'"
    assert stub.calls == [{"timeout": 2.0, "metadata": (("authorization", "Bearer tok-1"),)}]


async def test_an_unknown_incident_says_which_peer_knows_no_such_record() -> None:
    error = await refusal(evidence(Refusing(grpc.StatusCode.NOT_FOUND)).incident("i1", CALLER))
    assert type(error) is NotFound
    assert str(error) == "the agent service knows no such record: gone"


async def test_a_report_read_turns_not_found_into_unavailable() -> None:
    error = await refusal(evidence(Refusing(grpc.StatusCode.NOT_FOUND)).decisions("i1", "", CALLER))
    assert type(error) is Unavailable
    assert str(error) == "reading from the agent service failed: NOT_FOUND: gone"


async def test_a_refused_argument_keeps_its_meaning() -> None:
    error = await refusal(evidence(Refusing(grpc.StatusCode.OUT_OF_RANGE)).timeline("a1", CALLER))
    assert type(error) is InvalidArgument
    assert str(error) == "reading from the ops service failed: OUT_OF_RANGE: gone"


async def test_an_unknown_compliance_run_is_named_and_others_name_the_service() -> None:
    stub: Any = Refusing(grpc.StatusCode.NOT_FOUND)
    results = GrpcComplianceResults(stub, timeout_s=2.0)
    error = await refusal(results.check_run("r1", CALLER))
    assert (type(error), str(error)) == (NotFound, "no compliance run 'r1'")
    export = Export("e1", "compliance_checks", ExportState.GENERATING, "alice", NOW, NOW)
    listed = await refusal(anext(aiter(results.results(export, CALLER))))
    assert (type(listed), str(listed)) == (NotFound, "the agent's compliance service: gone")


async def test_the_audit_log_without_a_checkpoint_has_none_yet() -> None:
    stub: Any = Refusing(grpc.StatusCode.NOT_FOUND)
    reader = GrpcAuditReader(stub, timeout_s=2.0, stream_timeout_s=9)
    assert await reader.latest_checkpoint(CALLER) is None
    error = await refusal(reader.inclusion_proof(3, 5, CALLER))
    assert type(error) is Unavailable
    assert str(error) == "reading from the audit service failed: NOT_FOUND: gone"
    size = await refusal(reader.log_size(CALLER))
    assert str(size) == "reading from the audit service failed: NOT_FOUND: gone"
