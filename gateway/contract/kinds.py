"""Incident kinds are data: the agent takes the kinds its active rule set declares (its "kinds";
a document from before kinds were data names them in its rules), and an admin's next version may
add one at any moment. So the document lists them as the enum of each schema asking for an
incident kind (marked with gateway.bodies.base.KIND_MARK), as the agent says they stand each
time the document is fetched (KindsOnFetch asks it, GetRuleSet of the active version, with the
gateway's own service token). Until the agent has answered once, such a field is a free string,
and the agent still checks it; when it cannot answer, the last list it gave stays.

The document is public, so a fetch must not turn into a call on the agent each time: the kinds
are asked at most every REFRESH_S, by one fetch at a time; the others are served the last list.
An admin's new kind shows within REFRESH_S."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import grpc
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.bodies.base import KIND_MARK
from runtime.clients import bearer
from runtime.tokens import ServiceIdentity
from tradeops.agent.v1 import agent_service_pb2 as pb

Schema = dict[str, Any]
ACTIVE = 0  # GetRuleSet's "the active version"
REFRESH_S = 5.0


class KindsOnFetch:
    """Pure ASGI middleware: before the document is served, the kinds in force are read."""

    def __init__(self, app: ASGIApp, path: str) -> None:
        self.app, self.path = app, path
        self._asking = asyncio.Lock()
        self._asked_at = -REFRESH_S

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.path and scope["method"] == "GET":
            await self._refresh(scope["app"])
        await self.app(scope, receive, send)

    async def _refresh(self, app: FastAPI) -> None:
        if self._asking.locked() or time.monotonic() - self._asked_at < REFRESH_S:
            return
        async with self._asking:
            await refresh(app)
            self._asked_at = time.monotonic()


async def refresh(app: FastAPI) -> None:
    state = app.state
    peers = getattr(state, "peers", None)
    if peers is None:  # outside the lifespan: no channel to ask on
        return
    identity = getattr(state, "kinds_identity", None)
    if identity is None:
        identity = state.kinds_identity = ServiceIdentity(state.settings.auth, "gateway")
    try:
        reply = await peers.agent.GetRuleSet(
            pb.GetRuleSetRequest(version=ACTIVE),
            timeout=state.settings.rpc_timeout_s,
            metadata=bearer(identity.token("agent")),
        )
    except grpc.aio.AioRpcError:
        return
    kinds = kinds_of(reply.document)
    if kinds:
        state.incident_kinds = kinds


def kinds_of(document: str) -> tuple[str, ...]:
    """The kinds a rule set document declares, in its order; none for one that is not a rule set
    (the agent refuses those, so it never is)."""
    try:
        parsed = json.loads(document)
    except ValueError:
        return ()
    if not isinstance(parsed, dict):
        return ()
    declared = parsed.get("kinds")
    if isinstance(declared, dict):
        return tuple(declared)
    rules = parsed.get("rules")
    named = [r.get("kind") for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []
    return tuple(dict.fromkeys(kind for kind in named if isinstance(kind, str)))


def declare(document: Schema, kinds: tuple[str, ...]) -> Schema:
    for schema in document["components"]["schemas"].values():
        for field in schema.get("properties", {}).values():
            if field.get(KIND_MARK):
                if kinds:
                    field["enum"] = list(kinds)
                else:
                    field.pop("enum", None)
    return document
