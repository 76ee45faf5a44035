"""The evidence pack of one ops action (kind "evidence_pack", parameters {"action_id": ...}):
everything an auditor needs to judge one decision, each part its own JSON Lines file listed in
the signed manifest:

    action.jsonl         the action (GetAction): parameters, votes, the policy snapshot it was
                         proposed under, state and execution detail (one line)
    timeline.jsonl       its whole timeline (GetTimeline), oldest first
    incident.jsonl       the incident it came from (one line; empty when it has none)
    decisions.jsonl      that incident's triage decisions (those ops actions name)
    audit_records.jsonl  every audit record whose target is "action/<id>" or "incident/<id>",
                         in seq order, each {"record": ..., "inclusion_proof": ...} (RFC 9162,
                         against the checkpoint below)
    checkpoint.txt       the signed audit checkpoint the pack is cut at, byte for byte

The checkpoint covers the whole log as it was when the pack was cut, so every audit record of
the action in the log by then is in it (an event still in the ops or agent outbox is not in the
log yet, and not in the pack). A pack is small by nature (one action's history): its parts are
gathered before they are written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from runtime.auth import Principal
from services.export.domain.exports import CHECKPOINT_FILE, Checkpoint, Export, ExportFile
from services.export.domain.formats import JsonLines
from services.export.service.files import write_records, write_whole

ACTION, TIMELINE, INCIDENT = "action.jsonl", "timeline.jsonl", "incident.jsonl"
DECISIONS, AUDIT_RECORDS = "decisions.jsonl", "audit_records.jsonl"


class EvidenceSource(Protocol):
    async def action(self, action_id: str, caller: Principal) -> dict[str, Any]: ...

    async def timeline(self, action_id: str, caller: Principal) -> list[dict[str, Any]]: ...

    async def incident(self, incident_id: str, caller: Principal) -> dict[str, Any]: ...

    async def decisions(
        self, incident_id: str, own_decision: str, caller: Principal
    ) -> list[dict[str, Any]]: ...

    async def covering_checkpoint(self, caller: Principal) -> Checkpoint | None: ...

    async def audit_records(
        self, targets: list[str], checkpoint: Checkpoint, caller: Principal
    ) -> list[dict[str, Any]]: ...


def action_id(export: Export) -> str:
    return str(export.parameters["action_id"])


async def write_pack(
    export: Export, source: EvidenceSource, caller: Principal, directory: Path
) -> tuple[Export, list[ExportFile]]:
    """Writes the pack's files; returns the export cut at the pack's checkpoint, and the files,
    action.jsonl first."""
    action = await source.action(action_id(export), caller)
    incident_id = str(action.get("incident_id", ""))
    checkpoint = await source.covering_checkpoint(caller)
    targets = [f"action/{action_id(export)}"] + ([f"incident/{incident_id}"] if incident_id else [])
    parts: list[tuple[str, Sequence[Mapping[str, Any]]]] = [
        (ACTION, [action]),
        (TIMELINE, await source.timeline(action_id(export), caller)),
        (INCIDENT, [await source.incident(incident_id, caller)] if incident_id else []),
        (DECISIONS, await _decisions(source, incident_id, action, caller)),
        (AUDIT_RECORDS, await _records(source, targets, checkpoint, caller)),
    ]
    files = [await write_records(directory, name, _each(rows), JsonLines()) for name, rows in parts]
    if checkpoint is None:
        return export, files
    note = checkpoint.note.encode("utf-8")  # the note as signed, byte for byte
    files.append(await asyncio.to_thread(write_whole, directory, CHECKPOINT_FILE, note))
    cut = replace(
        export,
        checkpoint_size=checkpoint.tree_size,
        checkpoint_root=checkpoint.root_hash,
        checkpoint_file=CHECKPOINT_FILE,
    )
    return cut, files


async def _decisions(
    source: EvidenceSource, incident_id: str, action: Mapping[str, Any], caller: Principal
) -> list[dict[str, Any]]:
    if not incident_id:
        return []
    return await source.decisions(incident_id, str(action.get("decision_id", "")), caller)


async def _records(
    source: EvidenceSource, targets: list[str], checkpoint: Checkpoint | None, caller: Principal
) -> list[dict[str, Any]]:
    if checkpoint is None:
        return []  # an empty log: nothing to prove
    return await source.audit_records(targets, checkpoint, caller)


async def _each(rows: Sequence[Mapping[str, Any]]) -> AsyncGenerator[Mapping[str, Any], None]:
    for row in rows:
        yield row
