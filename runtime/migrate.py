"""Alembic, one environment per service, each scoped to its own schema: the version table lives
in it, and autogenerate sees only that schema.

Migrations run as the schema's owner role (`<schema>_owner`, runtime.provision): run_env sets
that role first, which works when logged in as the owner or as an administrator and is refused
to the service's own role. After the migrations, in the same transaction, the service role
(`<schema>_svc`) gets exactly the privileges each table declares, in its Table's
info["service_privileges"] (SELECT, INSERT, UPDATE, DELETE when it declares none), plus USAGE
and SELECT on the schema's sequences; nothing on alembic_version or any table not declared."""

from __future__ import annotations

from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, Table, create_engine, pool, text
from sqlalchemy.exc import DBAPIError

from runtime.db import SERVICE_PRIVILEGES, sqlalchemy_url
from runtime.provision import owner_for, role_for

DEFAULT_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")


class MigrationError(Exception):
    """The migrations cannot run as the schema's owner role."""


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"services.{service}:migrations")
    config.attributes["url"] = sqlalchemy_url(url)
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, url), revision)


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py (online mode only)."""
    schema = metadata.schema
    assert schema, "a service's MetaData must name its schema"
    engine = create_engine(context.config.attributes["url"], poolclass=pool.NullPool)
    with engine.connect() as connection:
        _become_owner(connection, schema)
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=_only(schema),
        )
        with context.begin_transaction():
            context.run_migrations()
            grant_service_privileges(connection, metadata)
    engine.dispose()


def _become_owner(connection: Connection, schema: str) -> None:
    owner = owner_for(schema)
    found = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": owner}
    ).first()
    if found is None:
        raise MigrationError(
            f"role {owner} does not exist: provision the database first "
            "(`tradeops migrate` with TRADEOPS_ADMIN_DATABASE_URL set)"
        )
    user = connection.execute(text("SELECT current_user")).scalar()
    try:
        connection.execute(text(f'SET ROLE "{owner}"'))
    except DBAPIError as exc:
        raise MigrationError(
            f"migrations of {schema} run as its owner role {owner}, and {user} may not act as "
            f"it ({str(exc.orig).strip()}): connect as {owner} or as an administrator"
        ) from None
    # Alembic commits only a transaction it began itself.
    connection.commit()


def grant_service_privileges(connection: Connection, metadata: MetaData) -> None:
    """Gives `<schema>_svc` exactly what each existing table of the MetaData declares."""
    schema = metadata.schema
    assert schema, "a service's MetaData must name its schema"
    role = f'"{role_for(schema)}"'
    connection.execute(text(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {role}'))
    connection.execute(text(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM {role}'))
    existing = set(
        connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
        ).scalars()
    )
    for table in metadata.tables.values():
        if table.name in existing and table.schema == schema:
            privileges = ", ".join(declared_privileges(table))
            if privileges:
                connection.execute(
                    text(f'GRANT {privileges} ON "{schema}"."{table.name}" TO {role}')
                )
    connection.execute(text(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}'))


def declared_privileges(table: Table) -> tuple[str, ...]:
    found = table.info.get(SERVICE_PRIVILEGES, DEFAULT_PRIVILEGES)
    return tuple(found)


def _only(schema: str) -> Any:
    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return name == schema if type_ == "schema" else True

    return include_name
