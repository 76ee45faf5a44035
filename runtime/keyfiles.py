"""Writing key files whole: a reader (a service starting, another replica) sees the old file or
the new one, never a part, and a private key is never readable by others, not even briefly."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, *, mode: int = 0o600, keep: bool = False) -> None:
    """Writes `data` to a temporary file of `mode` beside `path`, synced, then renamed over it.
    With `keep`, an existing `path` stays as it is (another process created it first)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if keep:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        else:
            os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
