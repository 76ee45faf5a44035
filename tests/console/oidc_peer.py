"""A real OpenID Connect provider for the console's sign-in: panva's oidc-provider on Node
(tests/peers/oidc/provider.mjs, installed from its lock by tests/peers/install.sh), on
127.0.0.1 with one confidential client whose only redirect URI is the console's callback, and
the accounts alice and bob (ops), carol (compliance) and vic (viewer), their roles in the
access token's `roles` claim, its audience `tradeops`.

`oidc_peer` starts it for a module, ready once its discovery document answers, and stops it;
it needs the `console_redirect_uri` fixture (the gateway's callback URL, known before either
starts)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PEER = ROOT / "tests" / "peers" / "oidc"
CLIENT_ID = "tradeops-console"
AUDIENCE = "tradeops"
READY_WITHIN_S = 20.0


@dataclass(frozen=True)
class OidcPeer:
    issuer: str
    client_id: str
    secret_file: Path
    jwks_url: str
    log: Path

    @property
    def secret(self) -> str:
        return self.secret_file.read_text().strip()

    def discovery(self) -> dict[str, object]:
        return discovery(self.issuer)


def discovery(issuer: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration") as reply:
        document: dict[str, object] = json.load(reply)
    return document


@contextmanager
def running(folder: Path, redirect_uri: str) -> Iterator[OidcPeer]:
    node = shutil.which("node")
    if node is None or not (PEER / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("Node or oidc-provider is missing: run `bash tests/peers/install.sh`")
    secret = secrets.token_urlsafe(32)
    secret_file = folder / "client_secret"
    secret_file.write_text(secret + "\n")
    secret_file.chmod(0o600)
    port, log = _free_port(), folder / "provider.log"
    env = {
        **os.environ,
        "TRADEOPS_TEST_OIDC_CLIENT_ID": CLIENT_ID,
        "TRADEOPS_TEST_OIDC_CLIENT_SECRET": secret,
        "TRADEOPS_TEST_OIDC_AUDIENCE": AUDIENCE,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [node, str(PEER / "provider.mjs"), str(port), redirect_uri],
            cwd=PEER,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        issuer = f"http://127.0.0.1:{port}"
        document = _wait_ready(issuer, process, log)
        yield OidcPeer(issuer, CLIENT_ID, secret_file, str(document["jwks_uri"]), log)
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def oidc_peer(
    tmp_path_factory: pytest.TempPathFactory, console_redirect_uri: str
) -> Iterator[OidcPeer]:
    with running(tmp_path_factory.mktemp("oidc"), console_redirect_uri) as peer:
        yield peer


def _wait_ready(issuer: str, process: subprocess.Popen[bytes], log: Path) -> dict[str, object]:
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"oidc-provider exited ({process.returncode}): {log.read_text()}")
        try:
            return discovery(issuer)
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"oidc-provider not ready within {READY_WITHIN_S} s: {log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
