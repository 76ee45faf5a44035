"""Helpers shared by the delivery, redelivery, SFTP and schedule tests (no tests here): signed
exports built by the service's own sealing code, a fake clock, a local HTTP receiver, and
readers of what a user would look at (attempts, verifications, audit events)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from runtime.auth import Principal
from runtime.db import Database
from services.export.clients.store import ExportStore, or_directory
from services.export.domain.exports import Export
from services.export.domain.requests import ExportRequest, new_export
from services.export.domain.signing import PinnedKeys, Signer
from services.export.repository import exports as repository
from services.export.service.files import write_whole
from services.export.service.sealing import seal
from services.export.tables import deliveries, outbox, verifications

SIGNER = Signer(Ed25519PrivateKey.generate())
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# What the service trusts when SIGNER is its key file's key and no earlier key is pinned.
PINNED = PinnedKeys.of(SIGNER, T0, [])
DATA = "".join(f'{{"id":{n},"desk":"Zürich rates"}}\n' for n in range(200)).encode()


async def signed_export(
    db: Database,
    export_dir: Path,
    caller: Principal,
    destination: str = "",
    data: bytes = DATA,
    store: ExportStore | None = None,
) -> Export:
    """A SIGNED export in `store` (none: `export_dir`/<id>/), made by the service's own
    sealing, staged in `export_dir`."""
    request = ExportRequest(kind="actions_report", destination=destination)
    export = new_export(request, caller.subject)
    async with db.transaction() as session:
        await repository.add(session, export)
    staging = export_dir / f".{export.id}.partial"
    written = write_whole(staging, "actions.jsonl", data)
    export = export.generated(written, (written,))
    return await seal(db, export, SIGNER, staging, or_directory(store, export_dir), caller)


def digests(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under `folder`, by relative name."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(folder: Path) -> list[str]:
    """Staging or replaced copies a destination must not leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def events_for(db: Database, target: str) -> list[dict[str, Any]]:
    query = select(outbox.c.event).where(outbox.c.event["target"].astext == target)
    async with db.transaction() as session:
        rows = (await session.execute(query.order_by(outbox.c.id))).all()
    return [row.event for row in rows]


async def job_of(db: Database, export_id: str) -> Any:
    async with db.transaction() as session:
        query = select(deliveries).where(deliveries.c.export_id == export_id)
        return (await session.execute(query)).one()


async def verification_rows(db: Database, export_id: str) -> list[Any]:
    query = select(verifications).where(verifications.c.export_id == export_id)
    async with db.transaction() as session:
        return list((await session.execute(query.order_by(verifications.c.id))).all())


@dataclass
class HttpReceiver:
    """A local HTTP server taking PUT/POST uploads under /<export_id>/<file> (bearer `token`
    required) and serving them back by GET; remembers the order files arrived in."""

    folder: Path
    token: str
    port: int = 0
    arrivals: list[str] = field(default_factory=list)
    refuse_with: int | None = None


def _handler(receiver: HttpReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self._refused():
                return
            target = receiver.folder / self.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            receiver.arrivals.append(self.path)
            self._answer(201, b"")

        do_POST = do_PUT

        def do_GET(self) -> None:
            target = receiver.folder / self.path.lstrip("/")
            if self._refused():
                return
            if target.is_file():
                self._answer(200, target.read_bytes())
            else:
                self._answer(404, b"")

        def _refused(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {receiver.token}":
                self._answer(401, b"")
                return True
            if receiver.refuse_with is not None:
                self._answer(receiver.refuse_with, b"")
                return True
            return False

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def serve(receiver: HttpReceiver) -> Iterator[HttpReceiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
