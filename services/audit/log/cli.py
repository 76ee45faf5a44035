"""`tradeops keys rotate checkpoint`: the checkpoint signing keyring's rotation.

    tradeops keys rotate checkpoint --at-size N [--file F]

Closes the current key's window at tree size N and appends a new generated key, of the same
name, that signs from N on, in the keyring file (TRADEOPS_AUDIT_SIGNING_KEYS_FILE unless
--file), rewritten whole and readable by its owner alone. Every earlier key stays, so the
checkpoints they signed still verify.
N must exceed the log's current tree size (GET /audit/checkpoints/latest shows it): the audit
service refuses to start with a keyring that gives an already signed size to another key.
Restart the audit service afterwards. Exit status: 0 rotated, 2 refused (nothing written)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from runtime.keyfiles import write_atomically
from services.audit.log.domain.keyring import KeyringError
from services.audit.log.domain.note import Signer
from services.audit.log.settings import ENV_KEYS, ENV_KEYS_FILE, keys_file


def add_checkpoint_rotation(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`tradeops keys rotate checkpoint`, under the `keys rotate` group of services/cli.py."""
    rotate = kinds.add_parser("checkpoint", help="start a new checkpoint signing key at a size")
    rotate.add_argument(
        "--at-size", type=int, required=True, help="first tree size the new key signs"
    )
    rotate.add_argument("--file", type=Path, help=f"the keyring file [${ENV_KEYS_FILE}]")
    rotate.set_defaults(run=run_rotate)


def run_rotate(args: argparse.Namespace) -> int:
    try:
        path = _keyring_path(args.file)
        keyring = keys_file(path)
        current = keyring.public_keys()[-1]
        new = Signer.generate(current.name)  # the name the verifiers know the log's keys by
        rotated = keyring.rotate(new, args.at_size)
    except KeyringError as exc:
        print(f"tradeops: nothing rotated: {exc}", file=sys.stderr)
        return 2
    write_atomically(path, rotated.to_json().encode())
    print(f"key {current.key_id_hex} now signs tree sizes [{current.from_size}, {args.at_size})")
    print(f"new key {new.key_id.hex()} ({new.vkey}) signs from {args.at_size} on, in {path}")
    print("restart the audit service to use it")
    return 0


def _keyring_path(given: Path | None) -> Path:
    if given is not None:
        return given
    if os.environ.get(ENV_KEYS_FILE):
        return Path(os.environ[ENV_KEYS_FILE])
    if os.environ.get(ENV_KEYS):
        raise KeyringError(f"{ENV_KEYS} holds the keys inline: rotate a file (--file) instead")
    raise KeyringError(f"no keyring file: give --file or set {ENV_KEYS_FILE}")
