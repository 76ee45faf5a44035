"""A throwaway CA with a server certificate for 127.0.0.1 and a client certificate, as PEM
files in a folder: enough for TLS and mutual TLS against a private receiver."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from runtime.tls import key_usage

Key = ec.EllipticCurvePrivateKey
FILES = ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")


@dataclass(frozen=True)
class Pki:
    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_pki(folder: Path) -> Pki:
    paths = Pki(*(folder / name for name in FILES))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("tradeops test CA")
    ca = (
        _builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    paths.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _leaf(paths.server_cert, paths.server_key, ca_key, ExtendedKeyUsageOID.SERVER_AUTH)
    _leaf(paths.client_cert, paths.client_key, ca_key, ExtendedKeyUsageOID.CLIENT_AUTH)
    return paths


def _leaf(cert: Path, key_file: Path, ca_key: Key, usage: x509.ObjectIdentifier) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    issuer_key_id = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    signed = (
        _builder(_name("localhost"), _name("tradeops test CA"), key)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(cert_sign=False), critical=True)
        .add_extension(issuer_key_id, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert.write_bytes(signed.public_bytes(serialization.Encoding.PEM))
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_file.write_bytes(private)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: x509.Name, issuer: x509.Name, key: Key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
