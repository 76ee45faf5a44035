"""The execution worker: approved actions at ops -> an executor -> the result back to ops.

Replica-safe because ops' StartExecution is the claim: only one caller moves an action from
APPROVED to EXECUTING; the others are refused and drop their claim row. Durable because every
step is a row before the next begins:

1. a "claiming" row (so a claim whose reply is lost still leaves a trace),
2. StartExecution at ops (refused outside the validity window: the action is then EXPIRED),
3. the row becomes "executing", the executor runs, the row records the outcome and attempts,
4. RecordExecutionResult at ops, then the row is marked reported.

Reconciliation (every pass): for each action ops shows EXECUTING that has an unreported row of
ours, a result already recorded is reported again (ops was down); with no result and no change at
ops for `stale_after_s`, the execution is declared OUTCOME_UNKNOWN, since the worker that ran it
crashed or lost track mid-way and only a person can check the desk system. `stale_after_s` is
kept above twice the longest executor budget, so a slow but live execution is never declared
lost. Claim rows ops never confirmed are dropped once stale."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from runtime.db import Database
from runtime.errors import Conflict, DomainError, NotFound, PermissionDenied
from services.agent.remediation.clients.executors import Executors
from services.agent.remediation.clients.ops import ActionView
from services.agent.remediation.domain.executions import (
    OUTCOME_UNKNOWN,
    ExecutionRequest,
    ExecutionResult,
    Executor,
    idempotency_key,
)
from services.agent.remediation.repository import executions as store
from services.agent.remediation.service.events import recorded

log = logging.getLogger(__name__)
REFUSED = (Conflict, NotFound, PermissionDenied)


class ExecutionOps(Protocol):
    async def list_actions(self, state: str) -> list[ActionView]: ...
    async def start(self, action_id: str, executor: str) -> ActionView: ...
    async def record(self, action_id: str, outcome: str, detail: str) -> None: ...


class ExecutionWorker:
    def __init__(
        self,
        db: Database,
        ops: ExecutionOps,
        executors: Executors,
        *,
        poll_s: float = 2.0,
        stale_after_s: float = 300.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._db, self._ops, self._executors, self._clock = db, ops, executors, clock
        self._wake = wake  # the outbox relay, after a pass that may have written events
        self._poll_s = poll_s
        self._stale = timedelta(seconds=max(stale_after_s, 2 * executors.budget_s))

    async def run(self) -> None:
        """The worker loop; an idle process (no executor configured) only sleeps."""
        while True:
            try:
                if self._executors.by_name:
                    await self.run_once()
                    self._wake()
            except Exception:
                log.exception("execution pass failed")
            await asyncio.sleep(self._poll_s)

    async def run_once(self) -> int:
        """One pass: reconcile, then execute every approved action an executor takes."""
        await self.reconcile()
        ran = 0
        for action in await self._ops.list_actions("APPROVED"):
            executor = self._executors.for_kind(action.kind)
            if executor is not None and await self._execute(action, executor):
                ran += 1
        return ran

    async def _execute(self, action: ActionView, executor: Executor) -> bool:
        key = idempotency_key(action.id)
        async with self._db.transaction() as session:
            execution_id = await store.add_claim(
                session,
                action_id=action.id,
                kind=action.kind,
                executor=executor.name,
                key=key,
                now=self._clock(),
            )
        try:
            await self._ops.start(action.id, executor.name)
        except REFUSED as exc:  # another replica won, or the validity window closed
            log.info("action %s not claimed: %s", action.id, exc)
            async with self._db.transaction() as session:
                await store.drop_claim(session, execution_id)
            return False
        except DomainError as exc:  # no answer: the claim row stays for the reconciler
            log.warning("claiming action %s failed: %s", action.id, exc)
            return False
        async with self._db.transaction() as session:
            await store.mark_started(session, execution_id, self._clock())
            await recorded(session, "started", execution_id, action.id, executor.name)
        request = ExecutionRequest(action.id, action.kind, action.parameters, key)
        result = await _run(executor, request)
        async with self._db.transaction() as session:
            await store.finish(session, execution_id, result, self._clock())
            await recorded(session, "finished", execution_id, action.id, executor.name, result)
        await self._report([execution_id], action.id, result.outcome, result.detail)
        return True

    async def reconcile(self) -> None:
        now = self._clock()
        executing = await self._ops.list_actions("EXECUTING")
        for action in executing:
            await self._reconcile(action, now)
        async with self._db.transaction() as session:
            await store.drop_stale_claims(session, now - self._stale, {a.id for a in executing})

    async def _reconcile(self, action: ActionView, now: datetime) -> None:
        async with self._db.transaction() as session:
            rows = await store.unreported(session, action.id)
            if not rows:
                return  # not ours, or already reported
            done = next((row for row in rows if row.outcome), None)
            if done is not None and done.outcome is not None:
                outcome, detail = done.outcome, done.detail
            elif action.updated_at <= now - self._stale:
                last = rows[-1]
                lost = ExecutionResult(OUTCOME_UNKNOWN, _lost(last.executor, self._stale))
                for row in rows:
                    await store.finish(session, row.id, lost, now)
                await recorded(session, "reconciled", last.id, action.id, last.executor, lost)
                outcome, detail = lost.outcome, lost.detail
            else:
                return  # still running somewhere
        await self._report([row.id for row in rows], action.id, outcome, detail)

    async def _report(self, ids: list[str], action_id: str, outcome: str, detail: str) -> None:
        try:
            await self._ops.record(action_id, outcome, detail)
        except REFUSED as exc:  # a person or another replica resolved it first
            log.warning("ops refused the result of action %s: %s", action_id, exc)
        except DomainError as exc:  # ops unreachable: the next reconcile reports it again
            log.warning("could not report action %s: %s", action_id, exc)
            return
        async with self._db.transaction() as session:
            await store.mark_reported(session, ids, self._clock())


async def _run(executor: Executor, request: ExecutionRequest) -> ExecutionResult:
    try:
        return await executor.execute(request)
    except Exception as exc:  # a bug in an executor must not leave the action hanging
        log.exception("executor %s crashed", executor.name)
        return ExecutionResult(OUTCOME_UNKNOWN, f"executor crashed: {type(exc).__name__}")


def _lost(executor: str, stale: timedelta) -> str:
    seconds = int(stale.total_seconds())
    why = "the worker stopped mid-way; check the desk system"
    return f"no result from {executor} within {seconds} s ({why})"
