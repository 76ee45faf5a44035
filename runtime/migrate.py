"""Alembic, one environment per service, each scoped to its own schema: the schema is created if
missing, the version table lives in it, and autogenerate sees only that schema."""

from __future__ import annotations

from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, create_engine, pool, text

from runtime.db import sqlalchemy_url


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
        _ensure_schema(connection, schema)
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=_only(schema),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def _ensure_schema(connection: Connection, schema: str) -> None:
    # Checked first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
    # schema exists, and a provisioned service role owns its schema but has no such right.
    found = connection.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
    ).first()
    if found is None:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # Alembic commits only a transaction it began itself.
    connection.commit()


def _only(schema: str) -> Any:
    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return name == schema if type_ == "schema" else True

    return include_name
