"""Test doubles for the agent's peers."""

from __future__ import annotations

from runtime.errors import Unavailable
from services.agent.service import Proposal


class FakeProposer:
    """Stands in for ops: remembers proposals, answers like ProposeAction (idempotent on
    source_ref), or fails as if ops were down."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.proposals: list[Proposal] = []
        self._actions: dict[str, str] = {}

    async def propose(self, proposal: Proposal) -> str:
        if self.down:
            raise Unavailable("ops is unreachable")
        self.proposals.append(proposal)
        return self._actions.setdefault(proposal.source_ref, f"act-{len(self._actions) + 1}")
