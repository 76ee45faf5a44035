"""The route and role table, from the gateway's one RBAC table (gateway/rbac.py): the routes
each set of roles may call, widest first, and the public ones."""

from __future__ import annotations

from collections import defaultdict

from gateway.rbac import PUBLIC, RBAC
from runtime.auth import ANYONE

ORDER = ("viewer", "trader", "ops", "compliance", "admin")


def table() -> str:
    by_roles: dict[frozenset[str], list[str]] = defaultdict(list)
    for (method, path), roles in RBAC.items():
        by_roles[roles].append(f"`{method} {path}`")
    lines = ["| roles | routes |", "| --- | --- |"]
    lines.append(f"| none: no token | {', '.join(f'`{m} {p}`' for m, p in sorted(PUBLIC))} |")
    for roles in sorted(by_roles, key=lambda r: (-len(r), _named(r))):
        lines.append(f"| {_named(roles)} | {', '.join(by_roles[roles])} |")
    return "\n".join(lines)


def _named(roles: frozenset[str]) -> str:
    if roles == ANYONE:
        return "everyone (" + ", ".join(r for r in ORDER if r in roles) + ")"
    return ", ".join(r for r in ORDER if r in roles)
