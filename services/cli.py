"""The `tradeops` command: the runtime's commands (token, migrate), the audit bundle ones, the
rotation of the audit checkpoint and export signing keys, and a deployment's secrets folder.

tradeops audit export-bundle DIR [--from-seq A] [--to-seq B] [--progress]
tradeops audit verify-bundle DIR [--progress] [--trusted-key VKEY]
tradeops export verify DIR --pubkey FILE [--previous P] [--progress]
tradeops keys rotate checkpoint --at-size N [--file F]
tradeops keys rotate export [--key-file F] [--verify-keys-file F]
tradeops deploy init DIR
"""

from __future__ import annotations

import argparse

from runtime import cli
from services.audit.bundle.cli import add_audit_commands
from services.audit.log.cli import add_checkpoint_rotation
from services.deploy import add_deploy_commands
from services.export.cli import add_export_commands, add_export_rotation


def build_parser() -> argparse.ArgumentParser:
    parser, commands, key_kinds = cli.build_parser()
    add_audit_commands(commands)
    add_export_commands(commands)
    add_deploy_commands(commands)
    # Beside the runtime's `keys rotate issuer|service NAME`.
    add_checkpoint_rotation(key_kinds)
    add_export_rotation(key_kinds)
    return parser


def main(argv: list[str] | None = None) -> int:
    return cli.run(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
