"""The parameters of an export (and of a schedule's exports): the filters the export service
knows, each with the values it takes."""

from __future__ import annotations

from typing import Annotated, Literal

from google.protobuf.struct_pb2 import Struct
from pydantic import Field

from gateway.bodies.actions import State as ActionState
from gateway.bodies.base import StrictModel

Filter = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


class ExportParameters(StrictModel):
    """The filters of an export, each a kind's own: actions_report takes state and kind;
    incidents_report kind and desk; compliance_checks run_id, check_id and status;
    evidence_pack action_id, which it needs; audit_extract none. Which kind takes which is
    checked by the export service (422), as it needs the export's kind."""

    state: ActionState | None = Field(None, description="An action state (actions_report)")
    kind: Filter | None = Field(None, description="An action or incident kind")
    desk: Filter | None = None
    run_id: Filter | None = None
    check_id: Filter | None = None
    status: Literal["pass", "fail", "error"] | None = None
    action_id: Filter | None = Field(None, description="The action to gather (evidence_pack)")


def struct_of(parameters: ExportParameters) -> Struct | None:
    given = parameters.model_dump(exclude_none=True)
    if not given:
        return None
    message = Struct()
    message.update(given)
    return message
