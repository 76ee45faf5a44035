"""Creates the database, one login role and one schema per service, as an administrator.

Each role owns its schema and gets no rights on the others, so the agent's role cannot read an
ops table. Passwords, when the server needs them, come from TRADEOPS_<SVC>_DB_PASSWORD."""

from __future__ import annotations

import os
from collections.abc import Mapping

import psycopg
from psycopg import sql

from runtime.settings import SERVICES

DATABASE = "tradeops"


def role_for(service: str) -> str:
    return f"{service}_svc"


def provision(admin_url: str, env: Mapping[str, str] | None = None) -> None:
    env = os.environ if env is None else env
    _create_database(admin_url)
    with psycopg.connect(_with_database(admin_url, DATABASE), autocommit=True) as conn:
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        conn.execute(
            sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(DATABASE))
        )
        for service in SERVICES:
            _create_role(conn, service, env.get(f"TRADEOPS_{service.upper()}_DB_PASSWORD"))


def _create_database(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def _create_role(
    conn: psycopg.Connection[tuple[object, ...]], service: str, password: str | None
) -> None:
    role = sql.Identifier(role_for(service))
    found = conn.execute(
        "SELECT 1 FROM pg_roles WHERE rolname = %s", (role_for(service),)
    ).fetchone()
    if not found:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
    if password:
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(password)))
    conn.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(DATABASE), role)
    )
    conn.execute(
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
            sql.Identifier(service), role
        )
    )
    conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(service), role))


def _with_database(url: str, database: str) -> str:
    base, _, query = url.partition("?")
    head, _, _ = base.rpartition("/")
    return f"{head}/{database}" + (f"?{query}" if query else "")


def service_url(server_url: str, service: str) -> str:
    """The URL a service uses on a trust-authenticated local server: its own role, our database."""
    base = _with_database(server_url, DATABASE)
    scheme, _, rest = base.partition("://")
    _, _, hostpart = rest.rpartition("@")
    return f"{scheme}://{role_for(service)}@{hostpart}"
