"""`tradeops export verify`: checks a delivered export offline, with no access to the system;
and `tradeops keys rotate export`, the export signing key's rotation.

    tradeops export verify DIR --pubkey FILE [--previous DIR_OR_FILE] [--progress]
    tradeops keys rotate export [--key-file F] [--verify-keys-file F]

FILE is the export signing public key (PEM), obtained independently of the export (ListPublicKeys
or a published copy): key.pub.pem inside DIR is only used to name the key of a signature that
is not the trusted one. --previous checks the manifest chain: give the previous export's
directory (or its manifest.json), or a directory of exports, in which case the export whose
manifest DIR's manifest names is looked up there. Prints every problem, each naming the file and
what is wrong. Exit status: 0 intact, 1 problems found, 2 unusable arguments.

`keys rotate export` writes a new private key (0600) to the key file
(TRADEOPS_EXPORT_SIGNING_KEY_FILE) and keeps the old key's public part, retired now, in the
verify-keys file (TRADEOPS_EXPORT_VERIFY_KEYS_FILE), so exports it signed still verify.
Restart the export service to sign with the new key."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from runtime.progress import Progress, megabytes
from services.export.domain.exports import MANIFEST
from services.export.service.signing_key import KeyFileError, rotate
from services.export.service.verification.directory import total_bytes, verify_directory
from services.export.settings import DEPLOYED_VERIFY_KEYS, KEY_FILE_ENV, VERIFY_KEYS_ENV, Settings


def add_export_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = commands.add_parser("export", help="verify signed exports offline")
    actions = export.add_subparsers(required=True)
    verify = actions.add_parser("verify", help="verify an export directory offline")
    verify.add_argument("dir", type=Path, help="the export's directory")
    verify.add_argument("--pubkey", type=Path, required=True, help="trusted public key (PEM)")
    verify.add_argument(
        "--previous",
        type=Path,
        help="the previous export (directory or manifest.json), or a directory of exports, "
        "to check the manifest chain",
    )
    verify.add_argument("--progress", action="store_true", help="progress bar even off a TTY")
    verify.set_defaults(run=run_verify)


def add_export_rotation(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`tradeops keys rotate export`, under the `keys rotate` group of services/cli.py."""
    export = kinds.add_parser("export", help="replace the export signing key, keep the old public")
    export.add_argument("--key-file", type=Path, help=f"the private key [${KEY_FILE_ENV}]")
    export.add_argument(
        "--verify-keys-file", type=Path, help=f"earlier public keys [${VERIFY_KEYS_ENV}]"
    )
    export.set_defaults(run=run_rotate)


def run_rotate(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.key_file:
        env[KEY_FILE_ENV] = str(args.key_file)
    if args.verify_keys_file:
        env[VERIFY_KEYS_ENV] = str(args.verify_keys_file)
    settings = Settings.from_env(env)
    if VERIFY_KEYS_ENV not in env and (stray := _deployed_verify_keys(settings)):
        print(
            f"tradeops: nothing rotated: {stray.parent} is a `tradeops deploy init` folder, whose "
            f"export service reads earlier keys from {stray.name}; name it: "
            f"--verify-keys-file {stray}",
            file=sys.stderr,
        )
        return 2
    try:
        old, new = rotate(settings.signing_key_file, settings.verify_keys_file, datetime.now(UTC))
    except KeyFileError as exc:
        print(f"tradeops: nothing rotated: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"tradeops: rotation failed while writing {exc.filename}: {exc.strerror}")
        return 1
    print(f"export signing key {new.key_id} written to {settings.signing_key_file}")
    print(f"key {old.key_id} retired, its public key kept in {settings.verify_keys_file}")
    print("restart the export service to sign with the new key")
    return 0


def _deployed_verify_keys(settings: Settings) -> Path | None:
    """The deploy init verify-keys file beside the key, when the default file is not there: a
    rotation writing the default would leave the mounted file without the retired key, and
    exports signed by it would stop verifying after the next rotation."""
    deployed = settings.signing_key_file.parent / DEPLOYED_VERIFY_KEYS
    if settings.verify_keys_file.exists() or not deployed.exists():
        return None
    return deployed


def run_verify(args: argparse.Namespace) -> int:
    try:
        pem = args.pubkey.read_bytes()
        previous = _previous(args.previous, args.dir) if args.previous else None
    except (OSError, UsageError) as exc:
        print(f"tradeops: {exc}", file=sys.stderr)
        return 2
    bar = Progress(total_bytes(args.dir), sys.stderr, force=args.progress, describe=megabytes)
    problems = verify_directory(args.dir, pem, previous, bar.advance)
    bar.close()
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        print(f"{args.dir}: {len(problems)} problem(s) found")
        return 1
    chained = " and chain link" if previous is not None else ""
    print(f"{args.dir}: OK (signature, files{chained} verified)")
    return 0


class UsageError(Exception):
    """The arguments cannot be used (nothing was verified)."""


def _previous(given: Path, export_dir: Path) -> bytes:
    if given.is_file():
        return given.read_bytes()
    if (given / MANIFEST).is_file():
        return (given / MANIFEST).read_bytes()
    if not given.is_dir():
        raise UsageError(f"--previous {given}: no such directory or file")
    named = _named_previous(export_dir)
    for candidate in sorted(given.glob(f"*/{MANIFEST}")):
        data = candidate.read_bytes()
        if hashlib.sha256(data).hexdigest() == named:
            return data
    raise UsageError(f"--previous {given}: no export there has the manifest {named}")


def _named_previous(export_dir: Path) -> str:
    try:
        named = json.loads((export_dir / MANIFEST).read_bytes())["previous_manifest_sha256"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{export_dir / MANIFEST}: cannot read the previous manifest's hash: {exc}"
        ) from None
    if not named:
        raise UsageError(f"{export_dir / MANIFEST}: the first of a chain has no previous")
    return str(named)


def main(argv: list[str] | None = None) -> int:
    """Runs the command alone (`python -m services.export.cli verify ...`)."""
    parser = argparse.ArgumentParser(prog="tradeops")
    add_export_commands(parser.add_subparsers(required=True))
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
