"""`tradeops` command line: development tokens, token keys, certificates and migrations.

    tradeops token --sub alice --roles ops[,compliance] [--desk D] [--ttl SECONDS]
    tradeops console-link --sub alice --roles ops [--desk D] [--url http://127.0.0.1:8000]
    tradeops keys init [--dir DIR]
    tradeops keys rotate issuer|service NAME [--dir DIR]
    tradeops keys retire KID [--dir DIR]
    tradeops migrate
    tradeops certs [--dir DIR] [--days N] [--host NAME ...] [--force]

Tokens are signed with the local issuer's key (TRADEOPS_ISSUER_KEY_FILE, by default issuer.pem
in TRADEOPS_KEYS_DIR, which `make run` fills: .tradeops/keys); runtime/key_dir.py has the
folder's layout.

`migrate` provisions roles and schemas when TRADEOPS_ADMIN_DATABASE_URL is set, then migrates
each schema as its owner role (runtime.provision.migration_url names the settings)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TypeAlias

from runtime import key_dir
from runtime.auth import ROLES
from runtime.console_settings import ConsoleSettings
from runtime.keys import ISSUER, KeyFileError, SigningKey
from runtime.settings import SERVICES, AuthSettings, SettingsError
from runtime.tokens import mint_console_link, mint_person_token


def main(argv: list[str] | None = None) -> int:
    return run(build_parser()[0], argv)


def run(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parses argv with `parser` and runs the chosen command; bad settings exit with status 2."""
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (SettingsError, KeyFileError, ValueError) as exc:
        print(f"tradeops: {exc}", file=sys.stderr)
        return 2


Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def build_parser() -> tuple[argparse.ArgumentParser, Subcommands, Subcommands]:
    """The `tradeops` parser, its subcommands and the kinds of `keys rotate`, so other packages
    can add commands and kinds of keys to them."""
    parser = argparse.ArgumentParser(prog="tradeops")
    commands = parser.add_subparsers(required=True)
    token = commands.add_parser("token", help="print a development token")
    token.add_argument("--sub", required=True, help="subject (user name)")
    token.add_argument("--roles", required=True, help=f"comma-separated: {', '.join(ROLES)}")
    token.add_argument("--desk", default="")
    token.add_argument("--ttl", type=int, default=0, help="lifetime in seconds")
    token.set_defaults(run=_token)
    link = commands.add_parser("console-link", help="print a one-time console sign-in link")
    link.add_argument("--sub", required=True, help="subject (user name)")
    link.add_argument("--roles", required=True, help=f"comma-separated: {', '.join(ROLES)}")
    link.add_argument("--desk", default="")
    link.add_argument("--url", default="", help="the gateway (default TRADEOPS_CONSOLE_URL)")
    link.set_defaults(run=_console_link)
    key_kinds = add_keys_commands(commands)
    migrate = commands.add_parser("migrate", help="provision roles and schemas, run migrations")
    migrate.set_defaults(run=_migrate)
    certs = commands.add_parser("certs", help="make a development CA and mutual-TLS certificates")
    certs.add_argument("--dir", type=Path, help="output folder [$TRADEOPS_HOME/tls]")
    certs.add_argument("--days", type=int, default=365, help="validity in days [365]")
    certs.add_argument("--host", action="append", default=[], help="extra name or IP (repeat)")
    certs.add_argument("--force", action="store_true", help="replace an existing CA and set")
    certs.set_defaults(run=_certs)
    return parser, commands, key_kinds


def _token(args: argparse.Namespace) -> int:
    settings = AuthSettings.from_env(os.environ)
    print(mint_person_token(_issuer(), settings, args.sub, _roles(args), args.desk, args.ttl))
    return 0


def _console_link(args: argparse.Namespace) -> int:
    url = args.url or os.environ.get("TRADEOPS_CONSOLE_URL", "http://127.0.0.1:8000")
    print(console_link(url, _issuer(), os.environ, args.sub, _roles(args), args.desk))
    return 0


def console_link(
    url: str, issuer: SigningKey, env: Mapping[str, str], sub: str, roles: list[str], desk: str = ""
) -> str:
    """A one-time sign-in link (gateway.console.signin); the token rides in the query, which
    the gateway's access log leaves out."""
    console = ConsoleSettings.from_env(env)
    auth = AuthSettings.from_env(env)
    token = mint_console_link(
        issuer, auth, sub, roles, console.link_ttl_s, console.session_ttl_s, desk
    )
    return f"{url.rstrip('/')}/console/link?t={token}"


def _issuer() -> SigningKey:
    path = key_dir.issuer_key_file(os.environ)
    if not path.exists():
        raise SettingsError(f"no issuer key at {path}: run `make run` or `tradeops keys init`")
    return SigningKey.load(path, ISSUER)


def _roles(args: argparse.Namespace) -> list[str]:
    return [r.strip() for r in args.roles.split(",") if r.strip()]


def add_keys_commands(commands: Subcommands) -> Subcommands:
    """`tradeops keys ...`; returns the `rotate` subcommands, where the services add theirs."""
    keys = commands.add_parser("keys", help="token and signing keys: make, rotate, retire")
    actions = keys.add_subparsers(required=True)
    init = actions.add_parser("init", help="make the issuer's and every process's token keys")
    init.set_defaults(run=_keys_init)
    rotate = actions.add_parser("rotate", help="a new key; old public keys keep verifying")
    kinds = rotate.add_subparsers(required=True)
    issuer = kinds.add_parser("issuer", help="the local issuer of people's tokens")
    issuer.set_defaults(run=_keys_rotate, owner=ISSUER)
    service = kinds.add_parser("service", help="one service's (or desk system's) token key")
    service.add_argument("owner", metavar="NAME")
    service.set_defaults(run=_keys_rotate)
    retire = actions.add_parser("retire", help="stop trusting a public key")
    retire.add_argument("kid")
    retire.set_defaults(run=_keys_retire)
    for parser in (init, issuer, service, retire):
        parser.add_argument("--dir", type=Path, help="the keys folder [$TRADEOPS_KEYS_DIR]")
    return kinds


def _folder(args: argparse.Namespace) -> Path:
    return Path(args.dir or key_dir.keys_dir(os.environ))


def _keys_init(args: argparse.Namespace) -> int:
    made = key_dir.ensure(_folder(args))
    print(f"made keys for {', '.join(made)}" if made else "every key exists already")
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    if args.owner != ISSUER and not key_dir.valid_name(args.owner):
        raise ValueError(f"{args.owner!r}: a service name is letters, digits, '-' and '_'")
    kid = key_dir.rotate(_folder(args), args.owner)
    print(f"new key {kid}; restart {args.owner} to sign with it (every verifier trusts it now)")
    return 0


def _keys_retire(args: argparse.Namespace) -> int:
    key_dir.retire(_folder(args), args.kid)
    print(f"retired {args.kid}: tokens it signed no longer verify")
    return 0


def _certs(args: argparse.Namespace) -> int:
    from runtime.tls import PROCESSES, make_certs

    if args.days < 1:
        raise ValueError("--days must be at least 1")
    folder = args.dir or Path(os.environ.get("TRADEOPS_HOME", ".tradeops")) / "tls"
    make_certs(folder, args.days, args.host, args.force)
    print(
        f"wrote ca.pem and a certificate and key per process ({', '.join(PROCESSES)}) to {folder}"
    )
    print(f"enable mutual TLS: export TRADEOPS_TLS_DIR={folder.resolve()}")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from runtime.migrate import upgrade
    from runtime.provision import migration_url, provision

    admin = os.environ.get("TRADEOPS_ADMIN_DATABASE_URL")
    if admin:
        provision(admin)
    # Each schema's owner role runs its migrations, never the service's own role.
    urls = {service: migration_url(service, os.environ) for service in SERVICES}
    for service, url in urls.items():
        upgrade(service, url)
        print(f"migrated {service}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
