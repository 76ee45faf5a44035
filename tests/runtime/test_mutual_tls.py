"""Mutual TLS between processes (TRADEOPS_TLS_DIR): `tradeops certs` makes the set, a server
started with it answers a client presenting a certificate from the same CA, and refuses a
client without a certificate, or with one from another CA, before any RPC runs."""

from __future__ import annotations

import stat
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.x509 import DNSName
from cryptography.x509.verification import PolicyBuilder, Store
from grpc_health.v1 import health_pb2, health_pb2_grpc

from runtime.auth import TokenVerifier
from runtime.cli import main as cli
from runtime.grpc_server import ServiceSpec, start
from runtime.settings import AuthSettings, SettingsError
from runtime.tls import TlsFiles, make_certs

SPEC = ServiceSpec(register=lambda server: None, service_names=[], rbac={})


def _files(folder: Path, name: str) -> TlsFiles:
    tls = TlsFiles.from_env({"TRADEOPS_TLS_DIR": str(folder), "TRADEOPS_TLS_NAME": name})
    assert tls is not None
    return tls


async def _health(port: int, credentials: grpc.ChannelCredentials | None) -> int:
    address = f"127.0.0.1:{port}"
    channel = (
        grpc.aio.insecure_channel(address)
        if credentials is None
        else grpc.aio.secure_channel(address, credentials)
    )
    async with channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=3
        )
    return int(reply.status)


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    assert cli(["certs", "--dir", str(tmp_path / "tls"), "--days", "2"]) == 0
    return tmp_path / "tls"


def test_certs_command_writes_a_ca_and_a_set_per_process_with_private_keys_closed(
    certs: Path,
) -> None:
    names = {path.name for path in certs.iterdir()}
    for process in ("audit", "ops", "agent", "export", "gateway", "cli"):
        assert {f"{process}.pem", f"{process}.key"} <= names
        assert stat.S_IMODE((certs / f"{process}.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((certs / "ca.key").stat().st_mode) == 0o600
    # replacing the CA would orphan every certificate it signed: refused unless --force
    assert cli(["certs", "--dir", str(certs)]) == 2
    assert cli(["certs", "--dir", str(certs), "--force"]) == 0


async def test_client_with_certificate_served_and_without_refused(
    certs: Path, tmp_path: Path, auth_settings: AuthSettings
) -> None:
    verifier = TokenVerifier(auth_settings)
    running = await start(SPEC, "127.0.0.1:0", verifier, _files(certs, "audit"))
    try:
        ops = _files(certs, "ops").channel_credentials()
        assert await _health(running.port, ops) == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as plain:
            await _health(running.port, None)
        assert plain.value.code() == grpc.StatusCode.UNAVAILABLE
        no_cert = grpc.ssl_channel_credentials((certs / "ca.pem").read_bytes())
        with pytest.raises(grpc.aio.AioRpcError) as anonymous:
            await _health(running.port, no_cert)
        assert anonymous.value.code() == grpc.StatusCode.UNAVAILABLE
        make_certs(tmp_path / "other")
        stranger = _files(tmp_path / "other", "ops").channel_credentials()
        with pytest.raises(grpc.aio.AioRpcError) as foreign:
            await _health(running.port, stranger)
        assert foreign.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await running.stop(0)


def test_missing_files_or_name_are_a_clear_settings_error(certs: Path) -> None:
    with pytest.raises(SettingsError, match="TRADEOPS_TLS_NAME"):
        TlsFiles.from_env({"TRADEOPS_TLS_DIR": str(certs)})
    with pytest.raises(SettingsError, match="'nobody'"):
        TlsFiles.from_env({"TRADEOPS_TLS_DIR": str(certs), "TRADEOPS_TLS_NAME": "nobody"})
    assert TlsFiles.from_env({}) is None


@pytest.mark.parametrize("name", ["ops", "gateway", "cli"])
def test_every_certificate_passes_a_strict_rfc5280_check_against_the_ca(
    certs: Path, name: str
) -> None:
    # What Python 3.13's default context demands too (VERIFY_X509_STRICT): key usage and key
    # identifiers, checked here by cryptography's own verifier on every interpreter.
    ca = x509.load_pem_x509_certificate((certs / "ca.pem").read_bytes())
    leaf = x509.load_pem_x509_certificate((certs / f"{name}.pem").read_bytes())
    verifier = PolicyBuilder().store(Store([ca])).build_server_verifier(DNSName(name))

    chain = verifier.verify(leaf, [])

    assert chain[-1] == ca
