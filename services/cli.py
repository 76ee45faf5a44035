"""The `tradeops` command: the runtime's commands (token, migrate), the audit bundle ones and
the rotation of signing keys.

tradeops audit export-bundle DIR [--from-seq A] [--to-seq B] [--progress]
tradeops audit verify-bundle DIR [--progress] [--trusted-key VKEY]
tradeops export verify DIR --pubkey FILE [--previous P] [--progress]
tradeops keys rotate checkpoint --at-size N [--file F]
tradeops keys rotate export [--key-file F] [--verify-keys-file F]
"""

from __future__ import annotations

import argparse

from runtime import cli
from services.audit.bundle.cli import add_audit_commands
from services.audit.log.cli import add_checkpoint_rotation
from services.export.cli import add_export_commands, add_export_rotation


def build_parser() -> argparse.ArgumentParser:
    parser, commands = cli.build_parser()
    add_audit_commands(commands)
    add_export_commands(commands)
    add_keys_group(commands)
    return parser


def add_keys_group(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """`tradeops keys rotate KIND ...`; returns the group of kinds, for more kinds of keys."""
    keys = commands.add_parser("keys", help="rotate signing keys")
    actions = keys.add_subparsers(required=True)
    rotate = actions.add_parser("rotate", help="replace a signing key, keeping the old public one")
    kinds = rotate.add_subparsers(required=True)
    add_checkpoint_rotation(kinds)
    add_export_rotation(kinds)
    return kinds


def main(argv: list[str] | None = None) -> int:
    return cli.run(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
