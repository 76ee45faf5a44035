"""A private OpenSSH server as a real SFTP peer: its own config, host key, client key and port,
on 127.0.0.1 only. `stop()` and `start()` again keep the port and keys, so a test can take the
destination down and bring it back. The login user is whoever runs the tests (root here), and
the remote directory is a plain folder under the test's temporary directory."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {folder}/host_key
PidFile {folder}/sshd.pid
AuthorizedKeysFile {folder}/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers {user}
Subsystem sftp internal-sftp
LogLevel VERBOSE
"""


class Sshd:
    def __init__(self, folder: Path) -> None:
        self.folder, self.user = folder, getpass.getuser()
        self.remote_dir = folder / "remote"
        self.port = _free_port()
        self.client_key = folder / "client_key"
        self.known_hosts = folder / "known_hosts"
        self._process: subprocess.Popen[bytes] | None = None

    def prepare(self) -> None:
        """Keys, known_hosts and the checked config (`sshd -t`)."""
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation dir
        self.remote_dir.mkdir(parents=True, exist_ok=True)
        _keygen(self.folder / "host_key")
        _keygen(self.client_key)
        shutil.copy(f"{self.client_key}.pub", self.folder / "authorized_keys")
        host_pub = Path(f"{self.folder}/host_key.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        conf = self.folder / "sshd_config"
        conf.write_text(CONFIG.format(port=self.port, folder=self.folder, user=self.user))
        _run([SSHD, "-t", "-f", str(conf)])

    @property
    def fingerprint(self) -> str:
        """The host key's fingerprint as `ssh-keygen -lf` prints it ("SHA256:...")."""
        out = _run(["ssh-keygen", "-lf", f"{self.folder}/host_key.pub", "-E", "sha256"])
        return out.split()[1]

    def start(self) -> None:
        log = (self.folder / "sshd.log").open("ab")
        command = [SSHD, "-D", "-e", "-f", str(self.folder / "sshd_config")]
        self._process = subprocess.Popen(command, stdout=log, stderr=log)
        log.close()
        _wait_listening(self.port, self._process)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


def _keygen(path: Path) -> None:
    _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tradeops-test", "-f", str(path)])
    os.chmod(path, 0o600)


def _run(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, check=False, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {result.stderr.strip()}")
    return result.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"sshd did not listen on port {port}")
