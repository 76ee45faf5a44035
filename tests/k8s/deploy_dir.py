"""What `tradeops deploy init DIR` writes, made with the code the services already use, for the
tests of the deployment files until that command exists (tests/k8s/readme.py then runs the
real one and this module can go):

    DIR/keys/trust.json, DIR/keys/issuer.pem, DIR/keys/services/<process>.pem   (runtime.key_dir)
    DIR/audit-signing-keys.json     the audit checkpoint keyring (its development keyring maker)
    DIR/export-signing-key.pem      the export signing key (its development key maker)
    DIR/export-verify-keys.json     that key's public part, pinned with its creation time
    DIR/passwords/<postgres|agent|ops|export|audit>   URL-safe, no trailing newline"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

from runtime import key_dir
from runtime.keyfiles import write_atomically
from services.audit.log.domain.keyring import generate_dev_keyring
from services.export.domain.signing import PublicKey, public_keys_json
from services.export.service.signing_key import load_signer

PASSWORDS = ("postgres", "agent", "ops", "export", "audit")


def init(folder: Path) -> None:
    key_dir.ensure(folder / "keys")
    keyring = generate_dev_keyring("tradeops.local-audit").to_json()
    write_atomically(folder / "audit-signing-keys.json", keyring.encode())
    signer = load_signer(folder / "export-signing-key.pem", create_if_missing=True)
    # Listed with its creation time: in a pod the key file's mtime is the Secret's mount time.
    pinned = PublicKey(signer.key_id, signer.public_pem.decode(), datetime.now(UTC), None)
    verify_keys = public_keys_json([pinned]).encode()
    write_atomically(folder / "export-verify-keys.json", verify_keys, mode=0o644)
    for name in PASSWORDS:
        write_atomically(folder / "passwords" / name, secrets.token_urlsafe(24).encode())


def main(argv: list[str]) -> int:
    """`tradeops deploy init DIR` as the README's commands call it."""
    if argv[:2] != ["deploy", "init"] or len(argv) != 3:
        print(f"this stand-in knows only `tradeops deploy init DIR`, not {argv}")
        return 2
    init(Path(argv[2]))
    return 0
