"""manifest.json and SHA256SUMS: what an export's signature vouches for.

The manifest is UTF-8 JSON with sorted keys, two-space indentation and a final newline; the
signature covers its exact bytes, so readers must never re-serialise it before verifying."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from services.export.domain.exports import Export, ExportFile

MANIFEST_VERSION = 1


def manifest_bytes(export: Export, prev_sha256: str, key_id: str) -> bytes:
    body = {
        "version": MANIFEST_VERSION,
        "export_id": export.id,
        "kind": export.kind,
        "format": export.format,
        "parameters": parameters(export),
        "created_at": _iso(export.created_at),
        "requested_by": export.requested_by,
        "key_id": key_id,
        "checkpoint": _checkpoint(export),
        "previous_manifest_sha256": prev_sha256 or None,
        "files": [_file(f) for f in export.files],
    }
    return (json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def parameters(export: Export) -> dict[str, Any]:
    """The effective request: filters plus the resolved range."""
    span: dict[str, Any] = {"since": _iso(export.since), "until": _iso(export.until)}
    if export.kind == "audit_extract":
        span |= {"from_seq": export.from_seq, "to_seq": export.to_seq}
    return {**dict(export.parameters), **span}


def sums_text(files: Iterable[ExportFile]) -> bytes:
    """`sha256sum` output format: hash, two spaces (text mode), name."""
    return "".join(f"{f.sha256}  {f.name}\n" for f in files).encode("utf-8")


def parse(data: bytes) -> Mapping[str, Any]:
    """The manifest's content; ValueError when it is not a manifest."""
    body = json.loads(data.decode("utf-8"))
    if not isinstance(body, dict) or not isinstance(body.get("files"), list):
        raise ValueError("not an export manifest")
    return body


def listed_files(body: Mapping[str, Any]) -> list[ExportFile]:
    return [
        ExportFile(str(f["name"]), int(f["size_bytes"]), str(f["sha256"]), int(f["record_count"]))
        for f in body["files"]
    ]


def _file(file: ExportFile) -> dict[str, Any]:
    return {
        "name": file.name,
        "size_bytes": file.size_bytes,
        "sha256": file.sha256,
        "record_count": file.record_count,
    }


def _checkpoint(export: Export) -> dict[str, Any] | None:
    if not export.checkpoint_size:
        return None
    return {
        "tree_size": export.checkpoint_size,
        "root_hash": export.checkpoint_root,
        "file": export.checkpoint_file,
    }


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")
