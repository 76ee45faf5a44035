"""Loading the keyring, and checking it at start-up against the checkpoints already signed (a
rotation must start beyond the newest signed tree size). The keyring is the one source of the
keys verification and GetKeys trust: nothing about keys is read from or written to the
database, whose rows the service's own role could change."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Mapping
from pathlib import Path

from runtime.db import Database
from runtime.keyfiles import write_atomically
from services.audit.log.domain.keyring import Keyring, KeyringError, generate_dev_keyring
from services.audit.log.repository import checkpoints
from services.audit.log.settings import ENV_KEYS_FILE, signing_keys

log = logging.getLogger(__name__)
CREATE_DEV_KEYS = "TRADEOPS_AUDIT_CREATE_DEV_KEYS"
KEY_NAME = "tradeops.local-audit"  # the name signed notes give the log's key


def load_keyring(env: Mapping[str, str]) -> Keyring:
    """The keyring from TRADEOPS_AUDIT_SIGNING_KEYS(_FILE). For a development machine only
    (`make run` sets TRADEOPS_AUDIT_CREATE_DEV_KEYS=1), a missing key file is created with a
    fresh key, readable by its owner alone."""
    path = env.get(ENV_KEYS_FILE)
    if path and env.get(CREATE_DEV_KEYS) == "1" and create_keyring(Path(path)):
        log.warning("created development checkpoint signing keys in %s", path)
    return signing_keys(env)


def create_keyring(path: Path) -> bool:
    """A keyring of one fresh key in `path`, readable by its owner alone, unless the file
    exists (then kept as it is). True when this call wrote it."""
    if path.exists():
        return False
    write_atomically(path, generate_dev_keyring(KEY_NAME).to_json().encode(), keep=True)
    return True


async def check_keyring(db: Database, keyring: Keyring) -> None:
    """Runs once at start; a contradicting keyring stops the process (SIGTERM to itself):
    serving with it would sign sizes with a key outside its window, and verify the signed
    checkpoints against the wrong key."""
    try:
        await _check(db, keyring)
    except KeyringError:
        log.critical("refusing to run with this keyring", exc_info=True)
        os.kill(os.getpid(), signal.SIGTERM)


async def _check(db: Database, keyring: Keyring) -> None:
    async with db.transaction() as session:
        latest = await checkpoints.get(session)
    if latest is not None:
        expected = keyring.signer_for(latest.tree_size).key_id.hex()
        if expected != latest.key_id_hex:
            raise KeyringError(
                f"checkpoint {latest.tree_size} was signed by key {latest.key_id_hex} but the "
                f"keyring assigns that size to {expected}: rotate beyond {latest.tree_size}"
            )
    log.info("checkpoint signing keys: %d in the keyring", len(keyring.public_keys()))
