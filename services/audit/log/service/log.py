"""The log as the use cases see it (AuditLog: the database, the one writer, the log's name),
appending through the sequencer, and the events the audit service records about itself.
Reading the log, its proofs and running verification are themselves appended as events, so
the log says who looked at it. Read-audit events are enqueued, not waited for (a crash loses at
most those of the last commit window; see proof_reads.py for proofs); verification and
redaction records are waited for."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from runtime.auth import Principal
from runtime.canonical import canonical_json
from runtime.db import Database
from runtime.errors import PermissionDenied
from runtime.outbox import person
from runtime.refusal_hook import AggregatedRefusals
from runtime.refusals import OVERFLOW, RefusalSettings, Tally
from runtime.telemetry import current_trace_id
from runtime.token_claims import is_part_of
from services.audit.log.domain.keyring import Keyring
from services.audit.log.domain.records import Actor, AppendResult, Event
from services.audit.log.domain.validation import validate
from services.audit.log.service.node_reads import NodeReads
from services.audit.log.service.proof_reads import ProofReads, Window
from services.audit.log.service.sequencer import Sequencer


@dataclass(frozen=True)
class AuditLog:
    """What the use cases work with: the database, the one writer, and the log's name."""

    db: Database
    sequencer: Sequencer
    origin: str
    proof_reads: ProofReads = field(default_factory=ProofReads)
    node_reads: NodeReads = field(default_factory=NodeReads)

    @property
    def keyring(self) -> Keyring:
        """The configured signing keys, which sign checkpoints and alone verify them."""
        return self.sequencer.checkpointer.keyring


async def append(
    log: AuditLog, events: Sequence[Event], caller: Principal | None = None
) -> list[AppendResult]:
    """Idempotent on event_id; answered only after the batch holding the events committed.
    A service appends only events of its own source (`caller`: the service appending)."""
    if caller is not None:
        check_sources(caller, events)
    return await log.sequencer.append(validate(events))


def check_sources(caller: Principal, events: Sequence[Event]) -> None:
    """Each service writes under its own name (ops, agent.triggers, ...): the gateway's or a
    desk system's key cannot put words in another service's mouth."""
    own = caller.owner
    for index, event in enumerate(events):
        if not own or not is_part_of(event.source, own):
            raise PermissionDenied(
                f"events[{index}]: {caller.subject} may append only events of source "
                f"{own or '(none)'!r} or {own}.*, not {event.source[:64]!r}"
            )


async def record_own(
    log: AuditLog,
    caller: Principal | Actor,
    action: str,
    target: str,
    payload: dict[str, Any],
    outcome: str = "success",
) -> None:
    """Appends an event the audit service itself causes (reads, verification, redaction)."""
    await log.sequencer.append([own_event(caller, action, target, payload, outcome)])


def note_read(
    log: AuditLog, caller: Principal | Actor, action: str, target: str, payload: dict[str, Any]
) -> None:
    """Enqueues the audit event of a read and returns at once: the read's answer never waits
    for a durable commit of its own audit record."""
    log.sequencer.enqueue([own_event(caller, action, target, payload, "success")])


def note_inclusion_proof(log: AuditLog, caller: Principal, seq: int, tree_size: int) -> None:
    def flush(actor: Actor, window: Window) -> None:
        event = own_event(actor, "audit.proof.inclusion", window.target, window.payload, "success")
        trace_id = window.trace_ids[0] if window.trace_ids else ""
        started = dataclasses.replace(event, occurred_at=window.started, trace_id=trace_id)
        log.sequencer.enqueue([started])

    log.proof_reads.note(_actor(caller), seq, tree_size, current_trace_id(), flush)


def own_event(
    caller: Principal | Actor, action: str, target: str, payload: dict[str, Any], outcome: str
) -> Event:
    actor = caller if isinstance(caller, Actor) else _actor(caller)
    return Event(
        event_id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        actor=actor,
        action=action,
        target=target,
        outcome=outcome,
        trace_id=current_trace_id(),
        source="audit",
        payload_json=canonical_json(payload),
    )


def _actor(principal: Principal) -> Actor:
    fields = person(principal)
    return Actor(**{**fields, "roles": tuple(fields["roles"])})


ANONYMOUS = Actor("anonymous", (), "person", "", "")


def refusal_hook(log: AuditLog, settings: RefusalSettings) -> AggregatedRefusals:
    """The guard's hook: refused calls become events per source and window (runtime.refusals)."""
    return AggregatedRefusals(
        partial(record_refusal, log), partial(record_refusal_window, log, settings), settings
    )


async def record_refusal(
    log: AuditLog, method: str, principal: Principal | None, reason: str
) -> None:
    """A refusal recorded on its own."""
    caller = principal if principal is not None else ANONYMOUS
    payload = {"method": method, "reason": reason}
    await record_own(log, caller, "audit.access.denied", f"rpc{method}", payload, "denied")


async def record_refusal_window(
    log: AuditLog, settings: RefusalSettings, tally: Tally[Principal | None]
) -> None:
    """The refusals one source's window only counted, as one event (runtime.refusals)."""
    action, target, payload = tally.event("audit", settings)
    caller = _actor(tally.actor) if tally.actor else ANONYMOUS
    if tally.source == OVERFLOW:
        caller = Actor("audit", (), "agent", "", "")
    await record_own(log, caller, action, target, payload, "denied")
