"""Creates the database and, per service, two roles and one schema, as an administrator.

`<svc>_owner` owns the schema and every table in it: migrations run as that role
(runtime.migrate). `<svc>_svc` is the role the service logs in as: CONNECT on the database and
USAGE on its own schema, never CREATE, and on each table only what the table declares
(runtime.migrate grants it after every migration), so the service cannot alter, re-grant or
drop what it writes (the audit role only appends to its log). Neither role has any right on
another service's schema. A database provisioned when the service role still owned its schema
is moved over to the owner role here, idempotently. Passwords, when the server needs them, come
from TRADEOPS_<SVC>_DB_PASSWORD and TRADEOPS_<SVC>_OWNER_DB_PASSWORD."""

from __future__ import annotations

import os
from collections.abc import Mapping

import psycopg
from psycopg import sql

from runtime.settings import SERVICES, SettingsError

DATABASE = "tradeops"
Connection = psycopg.Connection[tuple[object, ...]]


def role_for(service: str) -> str:
    return f"{service}_svc"


def owner_for(service: str) -> str:
    return f"{service}_owner"


def provision(admin_url: str, env: Mapping[str, str] | None = None) -> None:
    env = os.environ if env is None else env
    _create_database(admin_url)
    with psycopg.connect(_with_database(admin_url, DATABASE), autocommit=True) as conn:
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        conn.execute(
            sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(DATABASE))
        )
        for service in SERVICES:
            prefix = f"TRADEOPS_{service.upper()}"
            _create_role(conn, owner_for(service), env.get(f"{prefix}_OWNER_DB_PASSWORD"))
            _create_role(conn, role_for(service), env.get(f"{prefix}_DB_PASSWORD"))
            _own_schema(conn, service)


def _create_database(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def _create_role(conn: Connection, name: str, password: str | None) -> None:
    role = sql.Identifier(name)
    found = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
    if not found:
        # LOGIN for the owner too: trust-authenticated local servers and tests migrate as it.
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
    if password:
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(password)))
    conn.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(DATABASE), role)
    )


def _own_schema(conn: Connection, service: str) -> None:
    schema = sql.Identifier(service)
    owner, login = sql.Identifier(owner_for(service)), sql.Identifier(role_for(service))
    # Before owner roles existed the service role owned its schema and tables: all of that
    # (in this database only) moves to the owner, which the service role is not a member of.
    conn.execute(sql.SQL("REASSIGN OWNED BY {} TO {}").format(login, owner))
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(schema, owner))
    conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, owner))
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(schema, login))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, login))


def _with_database(url: str, database: str) -> str:
    base, _, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{database}" + (f"?{query}" if query else "")


def _as_role(server_url: str, role: str) -> str:
    base = _with_database(server_url, DATABASE)
    scheme, _, rest = base.partition("://")
    _, _, hostpart = rest.rpartition("@")
    return f"{scheme}://{role}@{hostpart}"


def service_url(server_url: str, service: str) -> str:
    """The URL a service uses on a trust-authenticated local server: its own role, our database."""
    return _as_role(server_url, role_for(service))


def owner_url(server_url: str, service: str) -> str:
    """The URL migrations use on a trust-authenticated local server: the schema's owner role."""
    return _as_role(server_url, owner_for(service))


def migration_url(service: str, env: Mapping[str, str]) -> str:
    """Where a service's migrations connect: TRADEOPS_<SVC>_OWNER_DATABASE_URL, else the shared
    TRADEOPS_OWNER_DATABASE_URL, else TRADEOPS_ADMIN_DATABASE_URL on the tradeops database (an
    administrator may act as the owner role). The service's own URL is never enough."""
    prefix = f"TRADEOPS_{service.upper()}"
    url = env.get(f"{prefix}_OWNER_DATABASE_URL") or env.get("TRADEOPS_OWNER_DATABASE_URL")
    if url:
        return url
    admin = env.get("TRADEOPS_ADMIN_DATABASE_URL")
    if admin:
        return _with_database(admin, DATABASE)
    raise SettingsError(
        f"migrations of {service} run as the schema's owner role {owner_for(service)}, not as "
        f"{role_for(service)}: set {prefix}_OWNER_DATABASE_URL, TRADEOPS_OWNER_DATABASE_URL "
        "or TRADEOPS_ADMIN_DATABASE_URL"
    )
