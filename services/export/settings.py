"""The export service's own settings, beside runtime.settings.ServiceSettings (which holds
TRADEOPS_EXPORT_DIR and TRADEOPS_EXPORT_STALE_AFTER_S).

TRADEOPS_EXPORT_SIGNING_KEY_FILE (".tradeops/export-signing-key.pem"): the PEM PKCS8 Ed25519
private key (service/signing_key.py); TRADEOPS_EXPORT_CREATE_DEV_KEY=1 creates that file, mode
0600, when missing (development only). TRADEOPS_EXPORT_VERIFY_KEYS_FILE (beside the key file,
`<key file without .pem>.public.json`; missing: no earlier keys): the public parts of earlier
keys, as JSON, which verification and the published key list trust besides the current key's
(domain/signing.py). TRADEOPS_EXPORT_DESTINATIONS ("[]"): the delivery
destinations as JSON, read into destinations at start-up (clients/destinations/config.py); their
hosts follow the egress policy (TRADEOPS_EGRESS_ALLOW, runtime/egress.py).

Where signed exports are kept (clients/store/): TRADEOPS_EXPORT_DIR (runtime.settings), unless
TRADEOPS_EXPORT_S3_BUCKET names an S3 bucket with Object Lock enabled, every object written in
COMPLIANCE mode for TRADEOPS_EXPORT_S3_RETENTION_DAYS (2190, six years: SEC 17a-4) under
TRADEOPS_EXPORT_S3_PREFIX ("exports/"); TRADEOPS_EXPORT_S3_ENDPOINT_URL (unset: AWS) for MinIO,
Ceph or another S3-compatible server, its host judged by the egress policy;
TRADEOPS_EXPORT_S3_REGION (unset: boto3's own). With a bucket, TRADEOPS_EXPORT_DIR holds only
exports being generated and copies being read. Credentials come from boto3's own chain
(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, web identity, instance profile), never from here."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from runtime.egress import DEFAULT, EgressPolicy, Refused
from runtime.settings import SettingsError, egress_policy

KEY_FILE_ENV, CREATE_DEV_KEY_ENV, VERIFY_KEYS_ENV = (
    "TRADEOPS_EXPORT_SIGNING_KEY_FILE",
    "TRADEOPS_EXPORT_CREATE_DEV_KEY",
    "TRADEOPS_EXPORT_VERIFY_KEYS_FILE",
)
DEFAULT_KEY_FILE = ".tradeops/export-signing-key.pem"
# What `tradeops deploy init` names the verify-keys file beside the key (services/deploy.py).
DEPLOYED_VERIFY_KEYS = "export-verify-keys.json"
DESTINATIONS_ENV = "TRADEOPS_EXPORT_DESTINATIONS"
S3 = "TRADEOPS_EXPORT_S3_"
# SEC 17a-4(f) keeps broker-dealer records six years; FINRA 4511 points to it.
DEFAULT_RETENTION_DAYS = 2190


@dataclass(frozen=True)
class S3Settings:
    """The S3 bucket exports are kept in, with Object Lock (clients/store/s3.py)."""

    bucket: str
    prefix: str = "exports/"
    endpoint_url: str = ""
    region: str = ""
    retention_days: int = DEFAULT_RETENTION_DAYS

    @classmethod
    def from_env(cls, env: Mapping[str, str], egress: EgressPolicy) -> S3Settings | None:
        bucket = env.get(f"{S3}BUCKET", "").strip()
        if not bucket:
            return None
        endpoint = env.get(f"{S3}ENDPOINT_URL", "").strip()
        if endpoint:
            _check_endpoint(endpoint, egress)
        return cls(
            bucket=bucket,
            prefix=_prefix(env.get(f"{S3}PREFIX", "exports/")),
            endpoint_url=endpoint,
            region=env.get(f"{S3}REGION", "").strip(),
            retention_days=_days(env.get(f"{S3}RETENTION_DAYS", "") or str(DEFAULT_RETENTION_DAYS)),
        )


@dataclass(frozen=True)
class Settings:
    signing_key_file: Path
    verify_keys_file: Path
    create_dev_key: bool = False
    destinations: str = "[]"
    egress: EgressPolicy = DEFAULT
    s3: S3Settings | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        key_file = Path(env.get(KEY_FILE_ENV, DEFAULT_KEY_FILE)).resolve()
        verify_keys = env.get(VERIFY_KEYS_ENV, "")
        egress = egress_policy(env)
        return cls(
            signing_key_file=key_file,
            verify_keys_file=Path(verify_keys).resolve() if verify_keys else beside(key_file),
            create_dev_key=env.get(CREATE_DEV_KEY_ENV, "") == "1",
            destinations=env.get(DESTINATIONS_ENV, "") or "[]",
            egress=egress,
            s3=S3Settings.from_env(env, egress),
        )


def beside(key_file: Path) -> Path:
    """The default verify-keys file: export-signing-key.pem -> export-signing-key.public.json."""
    stem = key_file.name.removesuffix(".pem")
    return key_file.with_name(f"{stem}.public.json")


def _check_endpoint(url: str, egress: EgressPolicy) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{S3}ENDPOINT_URL must be an http(s) URL with a host, not {url!r}")
    try:
        egress.check_url(url)
    except Refused as exc:
        raise SettingsError(f"{S3}ENDPOINT_URL: {exc}") from None


def _prefix(text: str) -> str:
    """Keys are `<prefix><export id>/<file>`: a prefix is a folder, so it ends with a slash."""
    prefix = text.strip().lstrip("/")
    return prefix if not prefix or prefix.endswith("/") else f"{prefix}/"


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if days < 1:
        raise SettingsError(f"{S3}RETENTION_DAYS must be a whole number of days >= 1, not {text!r}")
    return days
