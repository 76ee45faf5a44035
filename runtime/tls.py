"""Mutual TLS between the processes, switched on by one setting: TRADEOPS_TLS_DIR, a folder
holding `ca.pem` and, per process, `<name>.pem` and `<name>.key` (`tradeops certs` makes a
development set). When it is set every service serves TLS only and demands a client
certificate signed by that CA; every channel presents the process's own certificate. The
process's name comes from TRADEOPS_TLS_NAME (the stack sets it per process).

Certificates carry the process name, `localhost` and 127.0.0.1 as subject alternative names;
`--host` adds more (the names peers dial in a deployment)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from runtime.settings import SettingsError

# The five processes, and "cli" for tools that dial services (health checks, bundle export).
PROCESSES = ("audit", "ops", "agent", "export", "gateway", "cli")


@dataclass(frozen=True)
class TlsFiles:
    ca: bytes
    cert: bytes
    key: bytes = b""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TlsFiles | None:
        folder = env.get("TRADEOPS_TLS_DIR", "")
        if not folder:
            return None
        name = env.get("TRADEOPS_TLS_NAME", "")
        if not name:
            raise SettingsError("TRADEOPS_TLS_DIR is set but TRADEOPS_TLS_NAME is not")
        root = Path(folder)
        try:
            return cls(
                ca=(root / "ca.pem").read_bytes(),
                cert=(root / f"{name}.pem").read_bytes(),
                key=(root / f"{name}.key").read_bytes(),
            )
        except OSError as exc:
            raise SettingsError(f"TLS files for {name!r} in {folder}: {exc.strerror}") from exc

    def server_credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.key, self.cert)], root_certificates=self.ca, require_client_auth=True
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(self.ca, self.key, self.cert)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tradeops development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_bytes(data)


def _alt_names(name: str, hosts: Iterable[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for host in dict.fromkeys([name, "localhost", "127.0.0.1", *hosts]):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            entries.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(entries)


def _builder(
    subject: str, issuer: str, public: ec.EllipticCurvePublicKey, days: int
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
    )


def key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """A CA signs certificates (and CRLs); a process's key signs its TLS handshakes."""
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_certs(
    folder: Path, days: int = 365, hosts: Iterable[str] = (), force: bool = False
) -> None:
    """A CA and a certificate per process, in `folder`. Refuses to replace an existing CA
    (every certificate it signed would stop being trusted) unless `force`."""
    if (folder / "ca.pem").exists() and not force:
        raise SettingsError(f"{folder}/ca.pem exists; pass --force to replace the whole set")
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    # Key usage and key identifiers on both: Python 3.13's default context checks X.509 strictly
    # (VERIFY_X509_STRICT) and refuses a chain without them.
    ca = (
        _builder("tradeops development CA", "tradeops development CA", ca_key.public_key(), days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(folder / "ca.key", _pem_key(ca_key))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    for name in PROCESSES:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            _builder(name, "tradeops development CA", key.public_key(), days)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_alt_names(name, hosts), critical=False)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(key_usage(cert_sign=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_private(folder / f"{name}.key", _pem_key(key))
        (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
