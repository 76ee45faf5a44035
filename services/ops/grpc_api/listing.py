"""ListActions' request as the filters, order and inbox it asks for, and ExplainVote's answer:
the messages of the inbox (services.ops.domain.eligibility)."""

from __future__ import annotations

from datetime import datetime

from runtime.auth import Principal
from runtime.errors import InvalidArgument
from services.ops.domain.actions import Awaiting, Filters, Order
from services.ops.domain.eligibility import Eligibility
from services.ops.grpc_api import messages as to
from tradeops.ops.v1 import ops_service_pb2 as pb


def filters(request: pb.ListActionsRequest, caller: Principal, now: datetime) -> Filters:
    """awaiting_me is the caller's inbox as of `now`."""
    return Filters(
        state=to.state(request.state) if request.state else None,
        kind=request.kind,
        risk=to.risk(request.risk) if request.risk else None,
        assignee=request.assignee,
        awaiting=Awaiting(caller.subject, caller.roles, now) if request.awaiting_me else None,
        order=order(request.order),
    )


def order(number: pb.ActionOrder.ValueType) -> Order:
    if number == pb.ACTION_ORDER_UNSPECIFIED:
        return Order.NEWEST
    try:
        return Order(pb.ActionOrder.Name(number).removeprefix("ACTION_ORDER_"))
    except ValueError:
        raise InvalidArgument(f"unknown action order {number}") from None


def eligibility(action_id: str, found: Eligibility) -> pb.VoteEligibility:
    return pb.VoteEligibility(
        id=action_id,
        may_approve=found.may_approve,
        may_reject=found.may_reject,
        reason=found.reason,
        roles_needed=list(found.roles_needed),
        approve_refusal=found.approve_refusal,
        reject_refusal=found.reject_refusal,
    )
