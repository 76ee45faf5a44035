"""A private rsyslogd for tests and for bench/siem_relp.py: imtcp on 127.0.0.1 (plain or TLS
through the OpenSSL driver) or, with `relp=True`, imrelp (plain or TLS, librelp's OpenSSL
driver), RFC 5424 structured data parsed by mmpstrucdata, one JSON line per message (jsonmesg)
in a file. No imuxsock: the system's /dev/log is left alone. `with receiver(...) as syslog:`
stops it.

Both inputs run the same rules in the input's own thread (a Direct queue), so a benchmark
comparing them compares the transports. Over RELP rsyslogd then acknowledges a message only
once the file action wrote it: what it acknowledged survives a kill -9 and the file is the
truth about acknowledgements. (With the default in-memory main queue rsyslogd acknowledges on
enqueue; its durability after that is its own configuration's business.)"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.pgserver import free_port
from tests.audit.siem.certs import Pki

START_TIMEOUT_S = 5.0


@dataclass
class Rsyslog:
    folder: Path
    port: int = 0
    pki: Pki | None = None
    mutual: bool = False
    relp: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def output(self) -> Path:
        return self.folder / "messages.jsonl"

    def start(self) -> None:
        conf, port_file = self.folder / "rsyslog.conf", self.folder / "port"
        port_file.unlink(missing_ok=True)
        if self.relp and not self.port:
            self.port = free_port()  # imrelp has no listenPortFileName
        conf.write_text(self._config(port_file))
        _check(conf)
        command = ["rsyslogd", "-n", "-f", str(conf), "-i", str(self.folder / "rsyslogd.pid")]
        with (self.folder / "rsyslogd.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log)
        if self.relp:
            _wait_for_listener(self.port, self.process, probe=_listens)
        elif self.port:
            _wait_for_listener(self.port, self.process)
        else:
            self.port = _wait_for_port(port_file, self.process)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def messages(self) -> list[dict[str, Any]]:
        if not self.output.exists():
            return []
        # The last piece is empty, or a line rsyslogd is still writing.
        *lines, _ = self.output.read_text(encoding="utf-8").split("\n")
        return [json.loads(line) for line in lines]

    def _config(self, port_file: Path) -> str:
        if self.relp:
            return self._relp_config()
        tls, driver = "", ""
        if self.pki is not None:
            p = self.pki
            tls = (
                f' DefaultNetstreamDriver="ossl" DefaultNetstreamDriverCAFile="{p.ca_file}"'
                f' DefaultNetstreamDriverCertFile="{p.server_cert}"'
                f' DefaultNetstreamDriverKeyFile="{p.server_key}"'
            )
            mode = "x509/certvalid" if self.mutual else "anon"
            driver = (
                f' StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="{mode}"'
            )
        return CONFIG.format(
            work=self.folder,
            tls=tls,
            driver=driver,
            port=self.port,
            port_file=port_file,
            output=self.output,
        )

    def _relp_config(self) -> str:
        tls = ""
        if self.pki is not None:
            p = self.pki
            tls = (
                f' tls="on" tls.cacert="{p.ca_file}" tls.mycert="{p.server_cert}"'
                f' tls.myprivkey="{p.server_key}"'
            )
            tls += ' tls.authmode="certvalid"' if self.mutual else ""
        return RELP_CONFIG.format(work=self.folder, port=self.port, tls=tls, output=self.output)


RULES = """
module(load="mmpstrucdata")
template(name="jsonline" type="list") {{ property(name="jsonmesg") constant(value="\\n") }}
ruleset(name="siem" queue.type="Direct") {{
  action(type="mmpstrucdata")
  action(type="omfile" file="{output}" template="jsonline")
}}
"""

CONFIG = (
    """
global(workDirectory="{work}" parser.escapeControlCharactersOnReceive="off"{tls})
module(load="imtcp"{driver})
"""
    + RULES
    + """
input(type="imtcp" address="127.0.0.1" port="{port}" listenPortFileName="{port_file}"
      ruleset="siem")
"""
)

RELP_CONFIG = (
    """
global(workDirectory="{work}" parser.escapeControlCharactersOnReceive="off")
module(load="imrelp" tls.tlslib="openssl")
"""
    + RULES
    + """
input(type="imrelp" address="127.0.0.1" port="{port}" ruleset="siem"{tls})
"""
)


def _check(conf: Path) -> None:
    result = subprocess.run(["rsyslogd", "-N1", "-f", str(conf)], capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"rsyslogd rejects {conf}: {result.stderr.decode()}")


def _wait_for_port(port_file: Path, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rsyslogd exited with {process.returncode}")
        text = port_file.read_text().strip() if port_file.exists() else ""
        if text:
            return int(text)
        time.sleep(0.02)
    raise TimeoutError("rsyslogd did not start listening")


def _connects(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
        return True
    return False


def _listens(port: int) -> bool:
    """A listening socket on 127.0.0.1:port, seen in /proc: imrelp would log a connection
    that closes without a RELP session as an error."""
    local = f"0100007F:{port:04X}"
    rows = (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
    return any(row[1] == local and row[3] == "0A" for row in rows)


def _wait_for_listener(
    port: int, process: subprocess.Popen[bytes], probe: Callable[[int], bool] = _connects
) -> None:
    # listenPortFileName is written only for port 0; a fixed port is probed instead.
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rsyslogd exited with {process.returncode}")
        if probe(port):
            return
        time.sleep(0.02)
    raise TimeoutError(f"rsyslogd did not listen on port {port}")


@contextmanager
def receiver(folder: Path, **options: Any) -> Iterator[Rsyslog]:
    folder.mkdir(parents=True, exist_ok=True)
    syslog = Rsyslog(folder, **options)
    try:
        syslog.start()
        yield syslog
    finally:
        syslog.stop()
