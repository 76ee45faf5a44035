"""Query strings of the audit log's proofs: inclusion and consistency."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from gateway.bodies.base import MAX_INT64, QueryModel, Seq
from tradeops.audit.v1 import audit_service_pb2 as audit_pb

Latest = Annotated[int, Field(ge=0, le=MAX_INT64, description="0 or absent: the latest checkpoint")]


class InclusionQuery(QueryModel):
    seq: Seq
    tree_size: Latest = 0

    @model_validator(mode="after")
    def _inside(self) -> InclusionQuery:
        if self.tree_size and self.seq >= self.tree_size:
            raise ValueError("seq must be less than tree_size")
        return self

    def to_message(self) -> audit_pb.InclusionProofRequest:
        return audit_pb.InclusionProofRequest(**self.model_dump())


class ConsistencyQuery(QueryModel):
    # The empty tree is a prefix of every tree: the audit service proves nothing about it.
    first_size: Annotated[int, Field(ge=1, le=MAX_INT64)]
    second_size: Latest = 0

    @model_validator(mode="after")
    def _ordered(self) -> ConsistencyQuery:
        if self.second_size and self.first_size > self.second_size:
            raise ValueError("first_size must not exceed second_size")
        return self

    def to_message(self) -> audit_pb.ConsistencyProofRequest:
        return audit_pb.ConsistencyProofRequest(**self.model_dump())
