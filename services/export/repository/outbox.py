"""The export.* audit events, written to the outbox in the same transaction as the change: the
one write path of the outbox table (exports, deliveries and schedules alike)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from runtime.auth import Principal
from runtime.outbox import person, record_event
from services.export.domain.exports import Export
from services.export.domain.manifest import parameters
from services.export.tables import outbox

SOURCE = "export"


# A person's principal, or the fields of an automation's actor (a schedule, the worker).
Actor = Principal | Mapping[str, Any]


def actor_fields(actor: Actor) -> dict[str, Any]:
    return person(actor) if isinstance(actor, Principal) else dict(actor)


def subject(actor: Actor) -> str:
    return str(actor_fields(actor)["subject"])


async def emit(
    session: AsyncSession,
    caller: Actor,
    action: str,
    export: Export,
    payload: dict[str, Any],
    outcome: str = "success",
) -> None:
    await record(session, caller, action, export.id, payload, outcome)


async def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    export_id: str,
    payload: dict[str, Any],
    outcome: str = "success",
) -> None:
    await _write(session, actor, action, f"export/{export_id}", payload, outcome)


async def record_schedule(
    session: AsyncSession, actor: Actor, action: str, schedule_id: str, payload: dict[str, Any]
) -> None:
    await _write(session, actor, action, f"schedule/{schedule_id}", payload, "success")


async def _write(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target: str,
    payload: dict[str, Any],
    outcome: str,
) -> None:
    await record_event(
        session,
        outbox,
        source=SOURCE,
        actor=actor_fields(actor),
        action=action,
        target=target,
        payload=payload,
        outcome=outcome,
    )


def request_payload(export: Export) -> dict[str, Any]:
    return {
        "kind": export.kind,
        "format": export.format,
        "parameters": parameters(export),
        "destination": export.destination,
        "client_key": export.client_key,
    }


def signed_payload(export: Export) -> dict[str, Any]:
    return {
        "kind": export.kind,
        "manifest_sha256": export.manifest_sha256,
        "prev_manifest_sha256": export.prev_manifest_sha256,
        "key_id": export.key_id,
        "file_name": export.file_name,
        "sha256": export.sha256,
        "size_bytes": export.size_bytes,
        "record_count": export.record_count,
        "checkpoint_size": export.checkpoint_size,
        "checkpoint_root": export.checkpoint_root,
    }
