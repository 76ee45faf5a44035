"""The whole path: playbook -> ops -> approval by a second person -> the execution worker -> a
desk system's webhook (HMAC-signed, with an idempotency key) -> the result back in ops."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

import grpc
import pytest

from runtime.clients import bearer
from runtime.db import Database
from runtime.errors import Unavailable
from services.agent.remediation.clients.executors import Executors
from services.agent.remediation.clients.ops import OpsLink
from services.agent.remediation.clients.simulator import SimulatorExecutor
from services.agent.remediation.clients.webhook import WebhookExecutor
from services.agent.remediation.domain.executions import ExecutionRequest, ExecutionResult, Executor
from services.agent.remediation.workers.executions import ExecutionWorker
from tests.agent.remediation.desk import SECRET, DeskServer, Reply
from tests.agent.remediation.helpers import HandClock, seed_decision
from tradeops.agent.v1 import remediation_service_pb2 as pb
from tradeops.agent.v1 import remediation_service_pb2_grpc as pb_grpc
from tradeops.ops.v1 import ops_service_pb2 as ops_pb
from tradeops.ops.v1 import ops_service_pb2_grpc as ops_grpc

Tokens = Callable[..., str]
Ops: TypeAlias = "ops_grpc.OpsServiceAsyncStub"
Remediation: TypeAlias = "pb_grpc.RemediationServiceAsyncStub"


class Killed(BaseException):
    """The process dies (SIGKILL, OOM) in the middle of an execution."""


@dataclass(frozen=True)
class DiesMidWay:
    name: str = "simulator:demo"
    budget_s: float = 1.0

    async def execute(self, request: ExecutionRequest) -> ExecutionResult:
        raise Killed


EXECUTED = {"status": "executed", "detail": "XNAS-ITCH now on line B (ny4-md-02)"}


@pytest.fixture
def desk() -> Iterator[Callable[..., DeskServer]]:
    started: list[DeskServer] = []

    def start(*replies: Reply) -> DeskServer:
        started.append(DeskServer(list(replies)))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def webhook(server: DeskServer, **options: float) -> WebhookExecutor:
    settings = {"timeout_s": 2.0, "retries": 3, "backoff_s": 0.01, **options}
    return WebhookExecutor(
        label="desk-oms",
        url=server.url,
        secret=SECRET,
        timeout_s=settings["timeout_s"],
        retries=int(settings["retries"]),
        backoff_s=settings["backoff_s"],
    )


def worker(db: Database, link: OpsLink, clock: HandClock, executor: Executor) -> ExecutionWorker:
    executors = Executors({"only": executor}, {}, default="only")
    return ExecutionWorker(db, link, executors, stale_after_s=0, clock=clock)


async def proposed(
    remediation: Remediation, db: Database, token_for: Tokens, **decision: object
) -> str:
    fields = {
        "category": "market_data",
        "severity": "P2",
        "kind": "market_data_latency",
        "subject": "XNAS-ITCH",
        "metrics": {"latency_ms": 850, "subscribed_strategies": 3},
        **decision,
    }
    decision_id = await seed_decision(db, **fields)  # type: ignore[arg-type]
    plan = await remediation.PlanRemediation(
        pb.PlanRemediationRequest(decision_id=decision_id),
        metadata=bearer(token_for("rita", "trader")),
        timeout=10,
    )
    return plan.steps[0].action_id


async def approve(ops: Ops, token_for: Tokens, action_id: str, *voters: tuple[str, str]) -> None:
    for subject, role in voters or (("olga", "ops"),):
        await ops.ApproveAction(
            ops_pb.VoteRequest(id=action_id, comment="checked the dry run"),
            metadata=bearer(token_for(subject, role)),
            timeout=5,
        )


async def action(ops: Ops, token_for: Tokens, action_id: str) -> ops_pb.Action:
    request = ops_pb.GetActionRequest(id=action_id)
    return await ops.GetAction(request, metadata=bearer(token_for("vic", "viewer")), timeout=5)


async def executions(
    remediation: Remediation, token_for: Tokens, action_id: str
) -> list[pb.Execution]:
    request = pb.ListExecutionsRequest(action_id=action_id)
    found = await remediation.ListExecutions(
        request, metadata=bearer(token_for("vic", "viewer")), timeout=5
    )
    return list(found.executions)


async def test_an_approved_failover_reaches_the_desk_signed_and_comes_back_executed(
    remediation: Remediation,
    ops: Ops,
    agent_db: Database,
    link: OpsLink,
    clock: HandClock,
    token_for: Tokens,
    desk: Callable[..., DeskServer],
) -> None:
    server = desk(Reply(200, EXECUTED))
    action_id = await proposed(remediation, agent_db, token_for)
    runner = worker(agent_db, link, clock, webhook(server))
    assert await runner.run_once() == 0  # pending: never run without approval
    with pytest.raises(grpc.aio.AioRpcError) as own:
        await approve(ops, token_for, action_id, ("rita", "ops"))
    assert own.value.code() == grpc.StatusCode.PERMISSION_DENIED
    await approve(ops, token_for, action_id, ("olga", "ops"))
    assert await runner.run_once() == 1
    (request,) = server.received
    assert request.signed_by(SECRET)
    assert not request.signed_by("some-other-secret")
    body = request.json()
    assert request.headers["Idempotency-Key"] == body["idempotency_key"]
    assert body["idempotency_key"] == f"tradeops-action-{action_id}"
    assert (body["action_id"], body["kind"]) == (action_id, "failover_market_data_feed")
    assert body["parameters"]["feed"] == "XNAS-ITCH"
    assert "850 ms -> ~40 ms" in body["parameters"]["dry_run"]["summary"]
    done = await action(ops, token_for, action_id)
    assert done.state == ops_pb.ACTION_STATE_EXECUTED
    assert done.execution_detail == EXECUTED["detail"]
    (execution,) = await executions(remediation, token_for, action_id)
    assert (execution.state, execution.executor) == ("executed", "webhook:desk-oms")
    assert [(a.number, a.status_code) for a in execution.attempts] == [(1, 200)]
    assert execution.HasField("reported_at")
    assert await runner.run_once() == 0
    assert len(server.received) == 1


async def test_a_desk_that_reports_failure_makes_the_action_failed(
    remediation: Remediation,
    ops: Ops,
    agent_db: Database,
    link: OpsLink,
    clock: HandClock,
    token_for: Tokens,
    desk: Callable[..., DeskServer],
) -> None:
    refused = {"status": "failed", "detail": "secondary line handler is down too"}
    server = desk(Reply(200, refused))
    action_id = await proposed(remediation, agent_db, token_for)
    await approve(ops, token_for, action_id)
    await worker(agent_db, link, clock, webhook(server)).run_once()
    done = await action(ops, token_for, action_id)
    assert done.state == ops_pb.ACTION_STATE_FAILED
    assert done.execution_detail == "secondary line handler is down too"


async def test_a_desk_that_answers_too_late_leaves_the_outcome_unknown(
    remediation: Remediation,
    ops: Ops,
    agent_db: Database,
    link: OpsLink,
    clock: HandClock,
    token_for: Tokens,
    desk: Callable[..., DeskServer],
) -> None:
    server = desk(Reply(200, EXECUTED, delay_s=1.0))
    action_id = await proposed(remediation, agent_db, token_for)
    await approve(ops, token_for, action_id)
    await worker(agent_db, link, clock, webhook(server, timeout_s=0.3)).run_once()
    done = await action(ops, token_for, action_id)
    assert done.state == ops_pb.ACTION_STATE_OUTCOME_UNKNOWN
    assert done.execution_detail == "no reply within 0.3 s after the request was sent"
    assert len(server.received) == 1  # not retried: it may have acted
    (execution,) = await executions(remediation, token_for, action_id)
    assert execution.state == "outcome_unknown"
    assert execution.attempts[0].error == "ReadTimeout"


async def test_a_503_is_retried_with_the_same_key_until_the_desk_answers(
    remediation: Remediation,
    ops: Ops,
    agent_db: Database,
    link: OpsLink,
    clock: HandClock,
    token_for: Tokens,
    desk: Callable[..., DeskServer],
) -> None:
    server = desk(Reply(503), Reply(503), Reply(200, EXECUTED))
    action_id = await proposed(remediation, agent_db, token_for)
    await approve(ops, token_for, action_id)
    await worker(agent_db, link, clock, webhook(server)).run_once()
    assert (await action(ops, token_for, action_id)).state == ops_pb.ACTION_STATE_EXECUTED
    assert len(server.received) == 3
    assert len({r.body for r in server.received}) == 1
    assert {r.headers["Idempotency-Key"] for r in server.received} == {
        f"tradeops-action-{action_id}"
    }
    assert all(r.signed_by(SECRET) for r in server.received)
    (execution,) = await executions(remediation, token_for, action_id)
    assert [a.status_code for a in execution.attempts] == [503, 503, 200]
    assert [a.error for a in execution.attempts] == ["HTTP 503", "HTTP 503", ""]


async def test_the_simulator_runs_a_reconciliation_for_a_demo(
    remediation: Remediation,
    ops: Ops,
    agent_db: Database,
    link: OpsLink,
    clock: HandClock,
    token_for: Tokens,
) -> None:
    action_id = await proposed(
        remediation, agent_db, token_for, category="reconciliation", severity="P3",
        kind="recon_break", subject="EQ-EU", metrics={"breaks": 10},
    )  # fmt: skip
    await approve(ops, token_for, action_id)
    await worker(agent_db, link, clock, SimulatorExecutor("demo", clock=clock)).run_once()
    done = await action(ops, token_for, action_id)
    assert done.state == ops_pb.ACTION_STATE_EXECUTED
    assert done.execution_detail.startswith("sim-")
    assert "simulated rerun_reconciliation (positions reconciliation for EQ-EU" in (
        done.execution_detail
    )


async def test_the_simulator_fails_the_kinds_it_is_told_to(
    remediation: Remediation,
    ops: Ops,
    agent_db: Database,
    link: OpsLink,
    clock: HandClock,
    token_for: Tokens,
) -> None:
    action_id = await proposed(
        remediation, agent_db, token_for, category="connectivity", severity="P1",
        kind="fix_session_down", subject="LSE-OE-02",
    )  # fmt: skip
    await approve(ops, token_for, action_id)
    failing = SimulatorExecutor("demo", fail_kinds=frozenset({"restart_fix_session"}))
    await worker(agent_db, link, clock, failing).run_once()
    assert (await action(ops, token_for, action_id)).state == ops_pb.ACTION_STATE_FAILED


async def test_an_approval_past_its_validity_window_is_never_run(
    remediation: Remediation,
    ops: Ops,
    agent_db: Database,
    link: OpsLink,
    clock: HandClock,
    token_for: Tokens,
    desk: Callable[..., DeskServer],
) -> None:
    server = desk(Reply(200, EXECUTED))
    action_id = await proposed(remediation, agent_db, token_for)
    await approve(ops, token_for, action_id)
    clock.advance(3601)  # the default policy's validity is one hour
    assert await worker(agent_db, link, clock, webhook(server)).run_once() == 0
    assert server.received == []
    assert (await action(ops, token_for, action_id)).state == ops_pb.ACTION_STATE_EXPIRED
    assert await executions(remediation, token_for, action_id) == []


async def test_a_second_replica_cannot_run_an_action_already_claimed(
    remediation: Remediation,
    ops: Ops,
    agent_db: Database,
    link: OpsLink,
    clock: HandClock,
    token_for: Tokens,
) -> None:
    action_id = await proposed(remediation, agent_db, token_for)
    await approve(ops, token_for, action_id)
    await link.start(action_id, "webhook:replica-a")  # replica A claimed it, then crashed
    replica_b = worker(agent_db, link, clock, SimulatorExecutor("b", clock=clock))
    assert await replica_b.run_once() == 0
    assert (await action(ops, token_for, action_id)).state == ops_pb.ACTION_STATE_EXECUTING
    # A's execution has no row of ours: it is not ours to reconcile.
    clock.advance(3600)
    await replica_b.reconcile()
    assert (await action(ops, token_for, action_id)).state == ops_pb.ACTION_STATE_EXECUTING


async def test_an_execution_that_crashed_mid_way_is_declared_outcome_unknown(
    remediation: Remediation,
    ops: Ops,
    agent_db: Database,
    link: OpsLink,
    clock: HandClock,
    token_for: Tokens,
) -> None:
    action_id = await proposed(remediation, agent_db, token_for)
    await approve(ops, token_for, action_id)
    with pytest.raises(Killed):
        await worker(agent_db, link, clock, DiesMidWay()).run_once()
    assert (await action(ops, token_for, action_id)).state == ops_pb.ACTION_STATE_EXECUTING
    survivor = ExecutionWorker(agent_db, link, Executors({}, {}), stale_after_s=600, clock=clock)
    await survivor.reconcile()  # not stale yet: it may still be running
    assert (await action(ops, token_for, action_id)).state == ops_pb.ACTION_STATE_EXECUTING
    clock.advance(601)
    await survivor.reconcile()
    done = await action(ops, token_for, action_id)
    assert done.state == ops_pb.ACTION_STATE_OUTCOME_UNKNOWN
    assert done.execution_detail.startswith("no result from simulator:demo within 600 s")
    (execution,) = await executions(remediation, token_for, action_id)
    assert execution.state == "outcome_unknown"
    assert execution.HasField("reported_at")


async def test_a_result_ops_missed_is_reported_by_the_next_pass(
    remediation: Remediation,
    ops: Ops,
    agent_db: Database,
    link: OpsLink,
    clock: HandClock,
    token_for: Tokens,
) -> None:
    action_id = await proposed(remediation, agent_db, token_for)
    await approve(ops, token_for, action_id)
    flaky = worker(agent_db, link, clock, SimulatorExecutor("demo", clock=clock))
    real_record = link.record

    async def ops_down(*args: object) -> None:
        raise Unavailable("ops: UNAVAILABLE")

    link.record = ops_down  # type: ignore[method-assign,assignment]
    assert await flaky.run_once() == 1
    assert (await action(ops, token_for, action_id)).state == ops_pb.ACTION_STATE_EXECUTING
    link.record = real_record  # type: ignore[method-assign]
    await flaky.reconcile()
    assert (await action(ops, token_for, action_id)).state == ops_pb.ACTION_STATE_EXECUTED
