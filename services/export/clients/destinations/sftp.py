"""An SFTP destination (asyncssh). The client authenticates with a private key read from its
file; the server is authenticated by a known_hosts file or by a pinned host key fingerprint
("SHA256:..." as `ssh-keygen -lf` prints it). Nothing else from the user's ~/.ssh is read (no
config, no agent, no default keys), so what is configured is exactly what is trusted.

The host is resolved once and judged by the egress policy; the SSH session runs over a socket
connected to a checked address (asyncssh's `sock`), while host keys are still matched against
the configured name, so a second lookup cannot lead elsewhere."""

from __future__ import annotations

import asyncio
import hmac
import posixpath
import secrets
import socket
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.utils import CryptographyDeprecationWarning

from runtime.egress import DEFAULT, EgressPolicy, Refused, Unresolvable
from services.export.clients.destinations import (
    DeliveryError,
    checked_id,
    local_files,
    staging_name,
)

with warnings.catch_warnings():
    # asyncssh names cryptography's DSA classes in its type hints, and cryptography 51 warns on
    # every such name: the warning is asyncssh's import, not anything we call (no DSA key is
    # offered or accepted here). Exactly that warning, from there, is silenced; nothing else.
    warnings.filterwarnings(
        "ignore", "DSA is deprecated", CryptographyDeprecationWarning, r"asyncssh\.crypto\."
    )
    import asyncssh


@dataclass(frozen=True)
class SftpDestination:
    name: str
    host: str
    port: int
    user: str
    remote_dir: str
    key_file: Path
    known_hosts_file: Path | None = None
    host_key_fingerprint: str | None = None
    connect_timeout_s: float = 15.0
    egress: EgressPolicy = DEFAULT

    def location(self, export_id: str) -> str:
        return f"sftp://{self.host}:{self.port}{posixpath.join(self.remote_dir, export_id)}"

    async def put_directory(self, local_dir: Path, export_id: str) -> int:
        final = posixpath.join(self.remote_dir, checked_id(export_id))
        staging = posixpath.join(self.remote_dir, staging_name(export_id, secrets.token_hex(4)))
        async with self._session("upload") as sftp:
            sent = 0
            try:
                for name in local_files(local_dir):
                    remote = posixpath.join(staging, name)
                    await sftp.makedirs(posixpath.dirname(remote), exist_ok=True)
                    await sftp.put(str(local_dir / name), remote)
                    sent += (local_dir / name).stat().st_size
                await _swap_in(sftp, staging, final)
            finally:
                if await sftp.exists(staging):
                    await sftp.rmtree(staging, ignore_errors=True)
        return sent

    async def fetch_directory(self, export_id: str, into: Path) -> None:
        source = posixpath.join(self.remote_dir, checked_id(export_id))
        async with self._session("fetch") as sftp:
            if not await sftp.isdir(source):
                raise DeliveryError(f"{self.name} holds no export {export_id}")
            await _get_tree(sftp, source, into)

    @asynccontextmanager
    async def _session(self, what: str) -> AsyncIterator[asyncssh.SFTPClient]:
        try:
            connected = await self._socket()
        except (Refused, Unresolvable) as exc:
            raise DeliveryError(f"sftp {what} on {self.name}: {exc}") from None
        except OSError as exc:
            raise DeliveryError(f"sftp {what} on {self.name} failed: {_reason(exc)}") from None
        try:
            async with (
                asyncssh.connect(
                    self.host,
                    self.port,
                    sock=connected,
                    username=self.user,
                    client_keys=[str(self.key_file)],
                    known_hosts=self._known_hosts(),
                    client_factory=lambda: _PinnedHost(self.host_key_fingerprint),
                    config=None,
                    agent_path=None,
                    preferred_auth="publickey",
                    connect_timeout=self.connect_timeout_s,
                ) as connection,
                connection.start_sftp_client() as sftp,
            ):
                yield sftp
        except (OSError, asyncssh.Error, asyncssh.KeyImportError) as exc:
            raise DeliveryError(f"sftp {what} on {self.name} failed: {_reason(exc)}") from None

    async def _socket(self) -> socket.socket:
        """A TCP connection to the first checked address of the host that answers."""
        addresses = await self.egress.addresses(self.host)
        loop = asyncio.get_running_loop()
        for index, address in enumerate(addresses):
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                connecting = loop.sock_connect(sock, (str(address), self.port))
                await asyncio.wait_for(connecting, self.connect_timeout_s)
                return sock
            except BaseException as exc:  # a cancelled connect must not leak its socket
                sock.close()
                if not isinstance(exc, OSError) or index == len(addresses) - 1:
                    raise
        raise Unresolvable(f"url host {self.host} has no address")

    def _known_hosts(self) -> str | tuple[list[object], list[object], list[object]]:
        if self.known_hosts_file is not None:
            return str(self.known_hosts_file)
        # Nothing trusted up front: every key goes to _PinnedHost's fingerprint check.
        return ([], [], [])


class _PinnedHost(asyncssh.SSHClient):
    def __init__(self, fingerprint: str | None) -> None:
        self._fingerprint = fingerprint

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        if not self._fingerprint:
            return False
        return hmac.compare_digest(key.get_fingerprint("sha256"), self._fingerprint)


async def _swap_in(sftp: asyncssh.SFTPClient, staging: str, final: str) -> None:
    """SFTP rename cannot replace a directory: an older copy is moved aside, then removed."""
    aside = posixpath.join(
        posixpath.dirname(final), f".{posixpath.basename(final)}.replaced-{secrets.token_hex(4)}"
    )
    if await sftp.exists(final):
        await sftp.rename(final, aside)
    await sftp.rename(staging, final)
    if await sftp.exists(aside):
        await sftp.rmtree(aside, ignore_errors=True)


async def _get_tree(sftp: asyncssh.SFTPClient, remote: str, into: Path, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise DeliveryError(f"the server's copy nests folders deeper than {MAX_DEPTH}")
    await asyncio.to_thread(into.mkdir, parents=True, exist_ok=True)
    async for entry in sftp.scandir(remote):
        name = str(entry.filename)
        if name in (".", ".."):
            continue
        local = into / plain_name(name)
        path = posixpath.join(remote, name)
        if entry.attrs.type == asyncssh.FILEXFER_TYPE_DIRECTORY:
            await _get_tree(sftp, path, local, depth + 1)
        else:
            await sftp.get(path, str(local))


# An export is a folder of files (and at most a folder or two); a server answering deeper
# (a symlink loop on its side, or a hostile server) is refused rather than followed.
MAX_DEPTH = 4


def plain_name(name: str) -> str:
    """A name the server listed, if it is one plain file name: a hostile server may answer
    "../../etc/x" or "/root/.ssh/x", and a fetch-back must never write outside its folder."""
    if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise DeliveryError(f"the server listed a name that is not a plain file name: {name!r:.80}")
    return name


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncssh.Error):
        return f"{type(exc).__name__}: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"
