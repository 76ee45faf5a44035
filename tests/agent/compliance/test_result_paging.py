"""ListResults a page at a time: keyset pages over stored results, through the real servicer."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from runtime.clients import bearer
from runtime.db import Database
from services.agent.compliance.clients.peers import Peers
from services.agent.compliance.domain.results import CheckResult, Run
from services.agent.compliance.grpc_api import servicer as grpc_api
from services.agent.compliance.repository import runs as repository
from tests.agent.compliance.conftest import Served
from tests.agent.compliance.helpers import Token
from tradeops.agent.v1 import compliance_service_pb2 as cpb
from tradeops.agent.v1 import compliance_service_pb2_grpc as cgrpc
from tradeops.audit.v1 import audit_service_pb2_grpc as audit_grpc
from tradeops.common.v1 import common_pb2
from tradeops.export.v1 import export_service_pb2_grpc as export_grpc
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

CHECK = "paging.planted"  # no other test stores results of this check
START = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
async def listing(agent_db: Database, served: Served) -> cgrpc.ComplianceServiceAsyncStub:
    """The servicer with every peer pointing nowhere: listing never calls them."""
    nowhere = served.nowhere()
    peers = Peers(
        ops=ops_grpc.OpsServiceStub(nowhere),
        audit=audit_grpc.AuditServiceStub(nowhere),
        export=export_grpc.ExportServiceStub(nowhere),
        timeout_s=5,
    )
    return cgrpc.ComplianceServiceStub(await served.channel_to(grpc_api.spec(agent_db, peers)))


def planted_run(at: datetime, check_ids: list[str]) -> Run:
    """One run whose results all share `at`, so pages must break ties by id."""
    run_id = str(uuid.uuid4())
    found = tuple(
        CheckResult(str(uuid.uuid4()), run_id, check, 1, "planted", "pass", 1, (), "", at)
        for check in check_ids
    )
    return Run(run_id, "on_demand", "carol", at, at, found)


async def plant(db: Database, runs: list[Run]) -> list[str]:
    """Stores the runs; returns the ids of their CHECK results, newest first, ties by id."""
    async with db.transaction() as session:
        for run in runs:
            await repository.add_run(session, run)
    ours = [r for run in runs for r in run.results if r.check_id == CHECK]
    return [r.id for r in sorted(ours, key=lambda r: (-r.checked_at.timestamp(), r.id))]


def page_of(size: int, token: str = "") -> cpb.ListResultsRequest:
    page = common_pb2.PageRequest(page_size=size, page_token=token)
    return cpb.ListResultsRequest(check_id=CHECK, page=page)


async def test_every_result_comes_once_in_order_over_three_pages(
    listing: cgrpc.ComplianceServiceAsyncStub, agent_db: Database, token_for: Token
) -> None:
    # 401 runs of three tied results of ours and one of another check: 1,203 results to list.
    runs = [planted_run(START + timedelta(minutes=n), [CHECK] * 3 + ["other"]) for n in range(401)]
    expected = await plant(agent_db, runs)
    olga = bearer(token_for("olga", "ops"))

    first = await listing.ListResults(page_of(500), metadata=olga, timeout=5)
    # A result stored while paging is newer than every page, so later pages do not shift.
    await plant(agent_db, [planted_run(START + timedelta(days=1), [CHECK])])
    second = await listing.ListResults(
        page_of(500, first.next_page_token), metadata=olga, timeout=5
    )
    third = await listing.ListResults(
        page_of(500, second.next_page_token), metadata=olga, timeout=5
    )

    pages = [first, second, third]
    assert [len(p.results) for p in pages] == [500, 500, 203]
    assert [r.id for p in pages for r in p.results] == expected
    assert [bool(p.next_page_token) for p in pages] == [True, True, False]


def forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        forged('["2026-03-01T00:00:00+00:00", "r1"]'),
        forged(f'["2026-03-01T00:00:00", "{uuid.uuid4()}"]'),
        forged(f'["yesterday", "{uuid.uuid4()}"]'),
        forged("{}"),
    ],
    ids=["garbage", "not-a-uuid", "no-zone", "not-a-time", "not-a-pair"],
)
async def test_a_page_token_this_server_did_not_issue_is_an_invalid_argument(
    listing: cgrpc.ComplianceServiceAsyncStub, token_for: Token, token: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await listing.ListResults(
            page_of(10, token), metadata=bearer(token_for("olga", "ops")), timeout=5
        )

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in (refused.value.details() or "")


async def test_a_tampered_token_from_a_real_page_is_an_invalid_argument(
    listing: cgrpc.ComplianceServiceAsyncStub, agent_db: Database, token_for: Token
) -> None:
    await plant(agent_db, [planted_run(START, [CHECK] * 3)])
    olga = bearer(token_for("olga", "ops"))
    token = (await listing.ListResults(page_of(1), metadata=olga, timeout=5)).next_page_token

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await listing.ListResults(page_of(1, token[:-6] + "AAAAAA"), metadata=olga, timeout=5)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_the_deprecated_limit_still_bounds_a_listing_and_a_negative_size_is_refused(
    listing: cgrpc.ComplianceServiceAsyncStub, agent_db: Database, token_for: Token
) -> None:
    expected = await plant(agent_db, [planted_run(START, [CHECK] * 3)])
    olga = bearer(token_for("olga", "ops"))

    limited = await listing.ListResults(
        cpb.ListResultsRequest(check_id=CHECK, limit=2), metadata=olga, timeout=5
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await listing.ListResults(page_of(-1), metadata=olga, timeout=5)

    assert [r.id for r in limited.results] == expected[:2]
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
