"""Generating an export's files by kind, and the checks a kind makes of its peers before
anything is recorded (an unknown action or compliance run is NOT_FOUND, nothing written)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from pathlib import Path
from typing import Any, Protocol

from runtime.auth import Principal
from runtime.errors import Conflict
from services.export.clients.compliance import COMPLIANCE_COLUMNS
from services.export.clients.reports import ACTION_COLUMNS, INCIDENT_COLUMNS
from services.export.domain import requests
from services.export.domain.exports import Checkpoint, Export, ExportFile
from services.export.domain.formats import encoder
from services.export.service import evidence
from services.export.service.audit_extract import AuditReader, write_extract
from services.export.service.evidence import EvidenceSource, write_pack
from services.export.service.files import write_records

Records = AsyncGenerator[Mapping[str, Any], None]
NOT_CONFIGURED = "{} exports are not available: this export service has no {} configured"


class ReportReader(Protocol):
    def actions(self, export: Export, caller: Principal) -> Records: ...

    def incidents(self, export: Export, caller: Principal) -> Records: ...


class ComplianceReader(Protocol):
    async def check_run(self, run_id: str, caller: Principal) -> None: ...

    def results(self, export: Export, caller: Principal) -> Records: ...


class Sources(Protocol):
    """The peers' readers (services.export.service.exports.Exporter)."""

    @property
    def audit(self) -> AuditReader: ...
    @property
    def reports(self) -> ReportReader: ...
    @property
    def compliance(self) -> ComplianceReader | None: ...
    @property
    def evidence(self) -> EvidenceSource | None: ...


async def precheck(sources: Sources, export: Export, caller: Principal) -> None:
    """Raises what the caller got wrong about a peer's records, before anything is recorded."""
    if export.kind == requests.EVIDENCE_PACK:
        await _evidence(sources).action(evidence.action_id(export), caller)
    if export.kind == requests.COMPLIANCE_CHECKS:
        reader = _compliance(sources)
        if "run_id" in export.parameters:
            await reader.check_run(str(export.parameters["run_id"]), caller)


async def generate(
    sources: Sources,
    export: Export,
    checkpoint: Checkpoint | None,
    caller: Principal,
    directory: Path,
) -> tuple[Export, list[ExportFile]]:
    """Writes the export's files into `directory`; returns the export (its range or checkpoint
    resolved) and the files, the main data file first."""
    if export.kind == requests.AUDIT_EXTRACT:
        return await write_extract(export, sources.audit, checkpoint, caller, directory)
    if export.kind == requests.EVIDENCE_PACK:
        return await write_pack(export, _evidence(sources), caller, directory)
    if export.kind == requests.ACTIONS_REPORT:
        name, columns = "actions", ACTION_COLUMNS
        records = sources.reports.actions(export, caller)
    elif export.kind == requests.INCIDENTS_REPORT:
        name, columns = "incidents", INCIDENT_COLUMNS
        records = sources.reports.incidents(export, caller)
    else:
        name, columns = "compliance_checks", COMPLIANCE_COLUMNS
        records = _compliance(sources).results(export, caller)
    out = encoder(export.format, columns)
    written = await write_records(directory, f"{name}.{export.format}", records, out)
    return export, [written]


def _evidence(sources: Sources) -> EvidenceSource:
    if sources.evidence is None:
        raise Conflict(NOT_CONFIGURED.format("evidence_pack", "ops, agent and audit readers"))
    return sources.evidence


def _compliance(sources: Sources) -> ComplianceReader:
    if sources.compliance is None:
        raise Conflict(NOT_CONFIGURED.format("compliance_checks", "compliance service"))
    return sources.compliance
