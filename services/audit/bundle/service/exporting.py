"""Writing a bundle from the live service: the latest signed checkpoint (size N), the public
keys, the records of [A, B] streamed straight to disk and, for part of the log, each record's
inclusion proof in the tree of size N. bundle.json is written last."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from runtime.progress import Progress
from services.audit.bundle.clients.audit import AuditReader
from services.audit.bundle.domain.layout import (
    CHECKPOINT,
    PROOFS,
    RECORDS,
    BundleInfo,
    UsageError,
    write_info,
    write_keys,
)
from services.audit.bundle.domain.proof_lines import ProofLine
from services.audit.bundle.domain.records import record_line
from services.audit.log import rfc3339


async def export_bundle(
    reader: AuditReader,
    folder: Path,
    seqs: tuple[int, int | None],
    progress: Callable[[int], Progress],
) -> BundleInfo:
    """seqs: (A, B or None for the end); B is capped at the checkpoint's last seq."""
    _claim(folder)
    signed = await reader.checkpoint()
    first, last = _range(seqs, signed.tree_size)
    (folder / CHECKPOINT).write_bytes(signed.note.encode("utf-8"))
    write_keys(folder, signed.origin, await reader.keys())
    bar = progress(last - first + 1)
    try:
        count = await _write_records(reader, folder / RECORDS, (first, last), bar)
        if (first, last) != (0, signed.tree_size - 1):
            await _write_proofs(reader, folder / PROOFS, range(first, last + 1), signed.tree_size)
    finally:
        bar.close()
    created = rfc3339(datetime.now(UTC))
    info = BundleInfo(signed.origin, signed.tree_size, first, last, count, created)
    write_info(folder, info)
    return info


def _claim(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder} exists and is not an empty directory; refusing to write there")
    folder.mkdir(parents=True, exist_ok=True)


def _range(seqs: tuple[int, int | None], size: int) -> tuple[int, int]:
    first, wanted = seqs
    last = size - 1 if wanted is None else min(wanted, size - 1)
    if not 0 <= first <= last:
        raise UsageError(f"no records in [{first}, {last}] of the signed tree of size {size}")
    return first, last


async def _write_records(
    reader: AuditReader, path: Path, span: tuple[int, int], bar: Progress
) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        async for record in reader.records(*span):
            out.write(record_line(record))
            count += 1
            bar.advance()
    return count


async def _write_proofs(reader: AuditReader, path: Path, seqs: range, size: int) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        async for proof in reader.proofs(seqs, size):
            hashes = [bytes.fromhex(h) for h in proof.proof]
            out.write(ProofLine(proof.seq, proof.tree_size, hashes).line())
