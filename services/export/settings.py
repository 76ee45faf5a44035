"""The export service's own settings, beside runtime.settings.ServiceSettings (which holds
TRADEOPS_EXPORT_DIR and TRADEOPS_EXPORT_STALE_AFTER_S).

TRADEOPS_EXPORT_SIGNING_KEY_FILE (".tradeops/export-signing-key.pem"): the PEM PKCS8 Ed25519
private key (service/signing_key.py); TRADEOPS_EXPORT_CREATE_DEV_KEY=1 creates that file, mode
0600, when missing (development only). TRADEOPS_EXPORT_VERIFY_KEYS_FILE (beside the key file,
`<key file without .pem>.public.json`; missing: no earlier keys): the public parts of earlier
keys, as JSON, which verification and the published key list trust besides the current key's
(domain/signing.py). TRADEOPS_EXPORT_DESTINATIONS ("[]"): the delivery
destinations as JSON, read into destinations at start-up (clients/destinations/config.py); their
hosts follow the egress policy (TRADEOPS_EGRESS_ALLOW, runtime/egress.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from runtime.egress import DEFAULT, EgressPolicy
from runtime.settings import egress_policy

KEY_FILE_ENV, CREATE_DEV_KEY_ENV, VERIFY_KEYS_ENV = (
    "TRADEOPS_EXPORT_SIGNING_KEY_FILE",
    "TRADEOPS_EXPORT_CREATE_DEV_KEY",
    "TRADEOPS_EXPORT_VERIFY_KEYS_FILE",
)
DEFAULT_KEY_FILE = ".tradeops/export-signing-key.pem"
DESTINATIONS_ENV = "TRADEOPS_EXPORT_DESTINATIONS"


@dataclass(frozen=True)
class Settings:
    signing_key_file: Path
    verify_keys_file: Path
    create_dev_key: bool = False
    destinations: str = "[]"
    egress: EgressPolicy = DEFAULT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        key_file = Path(env.get(KEY_FILE_ENV, DEFAULT_KEY_FILE)).resolve()
        verify_keys = env.get(VERIFY_KEYS_ENV, "")
        return cls(
            signing_key_file=key_file,
            verify_keys_file=Path(verify_keys).resolve() if verify_keys else beside(key_file),
            create_dev_key=env.get(CREATE_DEV_KEY_ENV, "") == "1",
            destinations=env.get(DESTINATIONS_ENV, "") or "[]",
            egress=egress_policy(env),
        )


def beside(key_file: Path) -> Path:
    """The default verify-keys file: export-signing-key.pem -> export-signing-key.public.json."""
    stem = key_file.name.removesuffix(".pem")
    return key_file.with_name(f"{stem}.public.json")
