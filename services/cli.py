"""The `tradeops` command: the runtime's commands (token, migrate) and the audit bundle ones.

tradeops audit export-bundle DIR [--from-seq A] [--to-seq B] [--progress]
tradeops audit verify-bundle DIR [--progress] [--trusted-key VKEY]
tradeops export verify DIR --pubkey FILE [--previous P] [--progress]
"""

from __future__ import annotations

import argparse

from runtime import cli
from services.audit.bundle.cli import add_audit_commands
from services.export.cli import add_export_commands


def build_parser() -> argparse.ArgumentParser:
    parser, commands = cli.build_parser()
    add_audit_commands(commands)
    add_export_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    return cli.run(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
