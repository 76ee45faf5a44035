"""Idempotency keys for the RPCs that create something. A client (the gateway forwards REST's
`Idempotency-Key` header) sends metadata `idempotency-key`; the first call with a key runs and
its reply is stored; a retry with the same key and the same request gets that stored reply and
creates nothing. Keys are scoped to the caller and the method, and kept (no expiry yet: a key is
a few hundred bytes).

A key row is claimed (committed) before the use case runs, so two concurrent retries cannot
both run it: the second is told the first is in progress (ABORTED). If the use case refuses
(a DomainError: its transaction rolled back, nothing was created) the claim is released and the
client may retry. If anything else goes wrong, or the process dies between the use case's commit
and the reply being stored, the claim stays "unknown" and retries are refused with
FAILED_PRECONDITION saying so: the rule is never to create twice, even at the price of asking
the client to look the first result up. A claim left pending by a process that died mid-call
counts as interrupted once it is older than any call can run (STALE_PENDING_S)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
from sqlalchemy import (
    CHAR,
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert

from runtime.auth import current_principal
from runtime.db import Database
from runtime.errors import Conflict, DomainError, InvalidArgument

METADATA_KEY = "idempotency-key"
# A claim still pending after this long belongs to a call whose process died (killed, or its
# database connection lost) before it could record the outcome: longer than any call runs.
STALE_PENDING_S = 600
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, no spaces, as Stripe's
KEY_RULE = "Idempotency-Key must be 1 to 200 printable ASCII characters without spaces"


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("caller", Text, nullable=False),
        Column("method", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("request_sha256", CHAR(64), nullable=False),
        # pending: running now; done: reply stored; unknown: interrupted after it may have run
        Column("state", Text, nullable=False),
        Column("reply", LargeBinary),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("caller", "method", "key"),
    )


@dataclass(frozen=True)
class Idempotent:
    """What a service declares: its database, its key table, the full method names covered,
    and for some of them where a client finds the result of an interrupted call."""

    db: Database
    table: Table
    methods: Collection[str]
    lookups: Mapping[str, str] = field(default_factory=dict)


class KeyedCalls(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    def __init__(self, spec: Idempotent) -> None:
        self._spec = spec

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or method not in self._spec.methods or not handler.unary_unary:
            return handler
        serialize = handler.response_serializer
        return grpc.unary_unary_rpc_method_handler(
            self._keyed(handler.unary_unary, method, serialize),
            request_deserializer=handler.request_deserializer,
            # a replayed reply is already bytes
            response_serializer=lambda reply: (
                reply if isinstance(reply, bytes) else serialize(reply)
            ),
        )

    def _keyed(self, inner: Any, method: str, serialize: Callable[[Any], bytes]) -> Any:
        async def behavior(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            key = dict(context.invocation_metadata() or ()).get(METADATA_KEY)
            if key is None:
                return await inner(request, context)
            if not KEY_PATTERN.fullmatch(key):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, KEY_RULE)
            claim = Claim(self._spec, current_principal().subject, method, key)
            replay = await claim.take(_digest(request))
            if replay is not None:
                return replay
            return await claim.run(inner, request, context, serialize)

        return behavior


def _digest(request: Any) -> str:
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()


@dataclass
class Claim:
    spec: Idempotent
    caller: str
    method: str
    key: str

    def _row(self) -> Any:
        t = self.spec.table
        return (t.c.caller == self.caller) & (t.c.method == self.method) & (t.c.key == self.key)

    async def take(self, digest: str) -> bytes | None:
        """Claims the key; or the stored reply of the first call; or raises why it cannot."""
        t = self.spec.table
        stale = (t.c.created_at < func.now() - timedelta(seconds=STALE_PENDING_S)).label("stale")
        async with self.spec.db.transaction() as session:
            claimed = await session.execute(
                insert(t)
                .values(
                    caller=self.caller,
                    method=self.method,
                    key=self.key,
                    request_sha256=digest,
                    state="pending",
                )
                .on_conflict_do_nothing()
                .returning(t.c.key)
            )
            if claimed.first() is not None:
                return None
            row = (
                await session.execute(
                    select(t.c.request_sha256, t.c.state, t.c.reply, stale).where(self._row())
                )
            ).one()
        if row.request_sha256 != digest:
            raise KeyReused()
        if row.state == "done":
            return bytes(row.reply)
        if row.state == "pending" and not row.stale:
            raise KeyInProgress()
        raise OutcomeUnknown(
            self.spec.lookups.get(self.method, "")
        )  # or pending so long that its process must have died

    async def run(
        self, inner: Any, request: Any, context: Any, serialize: Callable[[Any], bytes]
    ) -> Any:
        t = self.spec.table
        try:
            reply = await inner(request, context)
        except DomainError:
            async with self.spec.db.transaction() as session:  # refused: nothing was created
                await session.execute(delete(t).where(self._row()))
            raise
        except BaseException:
            await self._mark(state="unknown")
            raise
        await self._mark(state="done", reply=serialize(reply))
        return reply

    async def _mark(self, **values: Any) -> None:
        async with self.spec.db.transaction() as session:
            await session.execute(update(self.spec.table).where(self._row()).values(**values))


class KeyReused(InvalidArgument):
    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used with a different request")


class KeyInProgress(Conflict):
    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is still in progress; retry later")


class OutcomeUnknown(Conflict):
    def __init__(self, lookup: str = "") -> None:
        where = f" ({lookup})" if lookup else ""
        super().__init__(
            "the first request with this Idempotency-Key was interrupted and may have taken "
            f"effect: look its result up{where} before retrying with a new key"
        )
