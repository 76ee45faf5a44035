"""The `tradeops audit` commands called in-process, as a user would type them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from services.audit.bundle import cli as commands
from services.cli import build_parser, main


class Cli:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    async def export(self, folder: Path, *options: str) -> int:
        args = build_parser().parse_args(["audit", "export-bundle", str(folder), *options])
        return await commands.export(args, self.env)


def verify(folder: Path, *options: str) -> int:
    return main(["audit", "verify-bundle", str(folder), *options])
