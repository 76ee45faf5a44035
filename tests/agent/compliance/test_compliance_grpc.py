"""ComplianceService's guard: who may run checks and read results and summaries."""

from __future__ import annotations

import grpc
import pytest

from runtime.clients import bearer
from tests.agent.compliance.helpers import Token
from tradeops.agent.v1 import compliance_service_pb2 as cpb
from tradeops.agent.v1 import compliance_service_pb2_grpc as cgrpc


async def code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value.code()


async def test_a_call_without_a_valid_token_is_unauthenticated(
    compliance: cgrpc.ComplianceServiceAsyncStub,
) -> None:
    run = cpb.RunChecksRequest()
    assert await code_of(compliance.RunChecks(run, timeout=5)) == grpc.StatusCode.UNAUTHENTICATED
    forged = compliance.RunChecks(run, metadata=bearer("not-a-jwt"), timeout=5)
    assert await code_of(forged) == grpc.StatusCode.UNAUTHENTICATED


async def test_only_compliance_or_admin_may_run_checks_or_summarise_the_audit_log(
    compliance: cgrpc.ComplianceServiceAsyncStub, token_for: Token
) -> None:
    ops = bearer(token_for("olga", "ops"))
    summary = cpb.SummariseAuditRequest()
    summary.since.GetCurrentTime()

    ran = compliance.RunChecks(cpb.RunChecksRequest(), metadata=ops, timeout=5)
    summarised = compliance.SummariseAudit(summary, metadata=ops, timeout=5)
    results = compliance.ListResults(
        cpb.ListResultsRequest(), metadata=bearer(token_for("tina", "trader")), timeout=5
    )

    assert await code_of(ran) == grpc.StatusCode.PERMISSION_DENIED
    assert await code_of(summarised) == grpc.StatusCode.PERMISSION_DENIED
    assert await code_of(results) == grpc.StatusCode.PERMISSION_DENIED


async def test_an_unknown_check_or_a_backwards_window_is_an_invalid_argument(
    compliance: cgrpc.ComplianceServiceAsyncStub, token_for: Token
) -> None:
    carol = bearer(token_for("carol", "compliance"))
    unknown = cpb.RunChecksRequest(check_ids=["approval.quorum", "made.up"])
    backwards = cpb.SummariseAuditRequest()
    backwards.since.FromSeconds(2_000_000_000)
    backwards.until.FromSeconds(1_000_000_000)

    ran = compliance.RunChecks(unknown, metadata=carol, timeout=5)
    summarised = compliance.SummariseAudit(backwards, metadata=carol, timeout=5)

    assert await code_of(ran) == grpc.StatusCode.INVALID_ARGUMENT
    assert await code_of(summarised) == grpc.StatusCode.INVALID_ARGUMENT


async def test_anyone_may_list_the_checks_with_their_versions(
    compliance: cgrpc.ComplianceServiceAsyncStub, token_for: Token
) -> None:
    found = await compliance.ListChecks(
        cpb.ListChecksRequest(), metadata=bearer(token_for("vera", "viewer")), timeout=5
    )

    assert [(c.id, c.version) for c in found.checks] == [
        ("approval.quorum", 2),
        ("approval.self_approval", 2),
        ("approval.sensitive_has_compliance", 2),
        ("audit.chain_verifies", 1),
        ("export.verified_in_time", 1),
        ("approval.escalation_deadline", 1),
    ]
