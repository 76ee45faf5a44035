"""Separation of duties over parameter changes: whoever wrote the parameters being voted on
cannot approve them, exactly like the requester (issue 16, "edit, then approve alone")."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from runtime.auth import Principal
from runtime.db import Database
from runtime.errors import PermissionDenied
from services.ops.domain.actions import Action, State
from services.ops.service import lifecycle
from services.ops.service import proposals as service
from tests.ops.helpers import events_for, later, payload, person, propose
from tests.ops.test_grpc import code_of
from tests.ops.test_grpc import propose as propose_over_grpc
from tests.ops.test_grpc_workflow import Stub, Tokens, as_
from tradeops.ops.v1 import ops_service_pb2 as pb

RITA = person("rita", "ops")  # the requester (tests.ops.helpers.proposal)
BOB, CARL = person("bob", "ops"), person("carl", "ops")
NEW = {"feed": "XNAS-ITCH", "to": "tertiary"}


async def edit(db: Database, action: Action, who: Principal, seconds: float = 30) -> Action:
    return await lifecycle.update_parameters(
        db,
        action_id=action.id,
        actor=who,
        parameters={**NEW, "by": who.subject},
        reason="secondary degraded",
        now=later(seconds),
    )


async def approve(db: Database, action: Action, who: Principal, seconds: float = 60) -> Action:
    return await service.approve(db, action_id=action.id, approver=who, now=later(seconds))


async def test_the_author_of_the_current_parameters_cannot_approve_them(ops_db: Database) -> None:
    edited = await edit(ops_db, await propose(ops_db), BOB)
    assert edited.parameters_author == "bob"

    with pytest.raises(PermissionDenied, match="the author of the current parameters cannot"):
        await approve(ops_db, edited, BOB)

    after = await service.get(ops_db, action_id=edited.id)
    assert (after.state, after.votes, after.parameters_version) == (State.PENDING_APPROVAL, (), 2)
    refused = (await events_for(ops_db, edited.id))[-1]
    assert (refused["action"], refused["outcome"]) == ("ops.action.vote_recorded", "denied")
    assert refused["actor"]["subject"] == "bob"
    assert "author of the current parameters" in payload(refused)["reason"]


async def test_someone_else_approves_the_edited_parameters(ops_db: Database) -> None:
    edited = await edit(ops_db, await propose(ops_db), BOB)

    approved = await approve(ops_db, edited, CARL)

    assert approved.state is State.APPROVED
    assert approved.parameters == {**NEW, "by": "bob"}


async def test_only_the_author_of_the_current_version_is_excluded(ops_db: Database) -> None:
    by_bob = await edit(ops_db, await propose(ops_db), BOB)
    by_carl = await edit(ops_db, by_bob, CARL, seconds=40)
    assert (by_carl.parameters_version, by_carl.parameters_author) == (3, "carl")

    with pytest.raises(PermissionDenied, match="author of the current parameters"):
        await approve(ops_db, by_carl, CARL)
    approved = await approve(ops_db, by_carl, BOB, seconds=70)

    assert approved.state is State.APPROVED


async def test_the_requester_still_cannot_approve_after_someone_else_edits(
    ops_db: Database,
) -> None:
    proposed = await propose(ops_db)
    assert proposed.parameters_author == "rita"  # the requester wrote the original parameters
    edited = await edit(ops_db, proposed, BOB)

    with pytest.raises(PermissionDenied, match="a requester cannot approve their own action"):
        await approve(ops_db, edited, RITA)


async def test_the_author_cannot_reject_them_either_like_the_requester(
    ops_db: Database,
) -> None:
    edited = await edit(ops_db, await propose(ops_db), BOB)

    with pytest.raises(PermissionDenied, match="author of the current parameters cannot reject"):
        await service.reject(ops_db, action_id=edited.id, approver=BOB, now=later(60))


async def test_over_grpc_the_editor_is_refused_permission(ops: Stub, token_for: Tokens) -> None:
    proposed = await propose_over_grpc(ops, token_for, source_ref="edit-then-approve/1")
    parameters: Any = pb.UpdateParametersRequest().parameters
    parameters.update(NEW)
    bob = as_(token_for, "bob", "ops")
    await ops.UpdateParameters(
        pb.UpdateParametersRequest(id=proposed.id, parameters=parameters, reason="degraded"),
        metadata=bob,
        timeout=5,
    )

    refused = ops.ApproveAction(pb.VoteRequest(id=proposed.id), metadata=bob, timeout=5)

    assert await code_of(refused) == grpc.StatusCode.PERMISSION_DENIED
    carl = as_(token_for, "carl", "ops")
    done = await ops.ApproveAction(pb.VoteRequest(id=proposed.id), metadata=carl, timeout=5)
    assert done.state == pb.ACTION_STATE_APPROVED
