"""What a service or gateway process says when started with arguments: it takes none (every
setting is an environment variable), so `--help` prints where they are described and anything
else is refused, before a setting is read or a port is bound."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from runtime.settings import SettingsError

USAGE = """usage: python -m {module}

Runs the tradeops {name} process until SIGINT or SIGTERM. It takes no arguments: every
setting is an environment variable, listed with its default in README.md ("Configuration"){own}."""


def check_arguments(name: str, module: str, argv: Sequence[str]) -> None:
    """Returns when there are no arguments; otherwise prints usage and exits (0 for --help)."""
    if not argv:
        return
    own = "" if name == "gateway" else f"\nand in services/{name}/README.md"
    usage = USAGE.format(module=module, name=name, own=own)
    if list(argv) in (["--help"], ["-h"]):
        print(usage)
        raise SystemExit(0)
    print(f"{usage}\n\ntradeops-{name}: unexpected arguments: {' '.join(argv)}", file=sys.stderr)
    raise SystemExit(2)


def settings_failed(name: str, error: SettingsError) -> SystemExit:
    """A missing or malformed setting: one line naming it, not a traceback."""
    print(f"tradeops-{name}: {error}", file=sys.stderr)
    return SystemExit(2)
